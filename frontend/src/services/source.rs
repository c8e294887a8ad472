//! What the report decoders ([`super::decode`]) read: a parsed JSON value, seen through [`JsonSource`].
//!
//! In the browser the value is `JSON.parse`'s output, a [`JsValue`] read in place (no JSON text round trip, no
//! serde in the wasm). Native builds, which exist only for tests, also read `serde_json::Value`, so the same
//! decoders are checked against serde's derived `Deserialize` on generated reports without a browser;
//! serde_json is a dependency of native builds only and never enters the wasm.

use wasm_bindgen::{JsCast, JsValue};

/// A JSON value as the decoders need it, with JavaScript's `undefined` for a key that is not there: absent
/// and `null` are told apart (a missing `reference.source` takes its default, a `null` one is refused, as
/// serde does). Lookups return values, not `Option`s, so each field costs one call in the wasm.
pub trait JsonSource: Sized {
    /// `self[key]`: absent when `self` is not an object or has no such key.
    fn key(&self, key: &str) -> Self;
    /// `undefined`: what [`JsonSource::key`] gives for a key that is not there.
    fn is_absent(&self) -> bool;
    fn is_null(&self) -> bool;
    /// An object (or, in the browser, an array): not `null`, not a scalar.
    fn is_object(&self) -> bool;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    /// The elements, when `self` is an array.
    fn elements(&self) -> Option<impl Iterator<Item = Self>>;
}

impl JsonSource for JsValue {
    fn key(&self, key: &str) -> JsValue {
        if !JsValue::is_object(self) {
            return JsValue::UNDEFINED;
        }
        js_sys::Reflect::get(self, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
    fn is_absent(&self) -> bool {
        self.is_undefined()
    }
    fn is_null(&self) -> bool {
        JsValue::is_null(self)
    }
    fn is_object(&self) -> bool {
        JsValue::is_object(self)
    }
    fn string(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn elements(&self) -> Option<impl Iterator<Item = JsValue>> {
        self.dyn_ref::<js_sys::Array>().map(js_sys::Array::iter)
    }
}

/// `None` is `undefined`: a key that is not there.
#[cfg(not(target_arch = "wasm32"))]
impl<'a> JsonSource for Option<&'a serde_json::Value> {
    fn key(&self, key: &str) -> Option<&'a serde_json::Value> {
        self.and_then(|v| v.get(key))
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
    fn is_null(&self) -> bool {
        self.is_some_and(serde_json::Value::is_null)
    }
    fn is_object(&self) -> bool {
        self.is_some_and(serde_json::Value::is_object)
    }
    fn string(&self) -> Option<String> {
        self.and_then(serde_json::Value::as_str).map(str::to_owned)
    }
    /// Every number as a JavaScript number (an `f64`), as the browser's `JSON.parse` gives it.
    fn number(&self) -> Option<f64> {
        self.and_then(serde_json::Value::as_f64)
    }
    fn boolean(&self) -> Option<bool> {
        self.and_then(serde_json::Value::as_bool)
    }
    fn elements(&self) -> Option<impl Iterator<Item = Option<&'a serde_json::Value>>> {
        self.and_then(serde_json::Value::as_array).map(|a| a.iter().map(Some))
    }
}
