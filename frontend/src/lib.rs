//! The Daytwo dashboard widget (issue 4): a yew app over `daytwo-shared`, rendered into a Shadow DOM by the
//! hand-written ES module `widget/daytwo.js` (`<daytwo-dashboard endpoint site token>` and `mount(el, opts)`).
//!
//! Layout follows yew's `function_todomvc`: one part per file under [`components`], the state and its
//! actions in [`state`] (a `Reducible`), HTTP in [`services::api`], the root component in [`app`]. The
//! stateless parts are plain view functions rather than components, and the reports are decoded by
//! [`services::decode`] rather than serde: both measured, both for the 120 KiB gzip budget.
//! Every number shown comes from the Worker's JSON decoded straight into the domain's report types, or from
//! the domain's own functions (the what-if slider calls [`daytwo_shared::report::what_if_at`] in the browser).
//!
//! The stylesheet is a string in the wasm ([`style::CSS`]), injected as a `<style>` into the shadow root, so
//! the whole transfer is one JS module (the loader with the wasm-bindgen glue bundled in, built by
//! `cargo xtask build-assets`) and one wasm file.

pub mod app;
pub mod components;
pub mod download;
pub mod format;
pub mod markup;
pub mod services;
pub mod state;
pub mod style;

use wasm_bindgen::prelude::*;

/// The allocator: talc in place of the standard library's dlmalloc (single-threaded wasm, so no locking).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A mounted dashboard. `destroy()` unmounts it (the custom element calls it before a remount).
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Widget {
    handle: Option<yew::AppHandle<app::App>>,
}

#[wasm_bindgen]
impl Widget {
    /// Unmounts the app; its pending requests are ignored when they complete.
    pub fn destroy(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.destroy();
        }
    }
}

/// Renders the dashboard into `root` (normally an open shadow root): clears it, adds the stylesheet and a
/// container, and mounts the app there.
#[wasm_bindgen]
pub fn mount_widget(root: &web_sys::Node, endpoint: String, site: String, token: String) -> Result<Widget, JsValue> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| JsValue::from_str("no document"))?;
    while let Some(child) = root.first_child() {
        root.remove_child(&child)?;
    }
    let style = document.create_element("style")?;
    style.set_text_content(Some(style::CSS));
    root.append_child(&style)?;
    let container = document.create_element("div")?;
    container.set_class_name("dt-host");
    root.append_child(&container)?;
    let props = app::AppProps { config: services::api::Config::new(&endpoint, &site, &token) };
    let handle = yew::Renderer::<app::App>::with_root_and_props(container, props).render();
    Ok(Widget { handle: Some(handle) })
}
