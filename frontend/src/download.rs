//! CSV export of what the current view shows: the layout is the domain's (`shared::export`, RFC 4180,
//! formula-injection safe, the same files the API's `format=csv` gives), built in the browser and
//! downloaded as a Blob.

use crate::components::what_if::projection;
use crate::state::{State, Tab};
use daytwo_shared::export;
use wasm_bindgen::{JsCast, JsValue};

/// Whether the current view has loaded what its export needs.
pub fn can_export(state: &State) -> bool {
    match state.tab {
        Tab::Overview | Tab::Spend | Tab::WhatIf => state.budget.ready().is_some(),
        Tab::Lifecycle => state.lifecycle.ready().is_some(),
        Tab::Engagement => state.engagement.ready().is_some(),
    }
}

/// File name and CSV text for the current view, or `None` while its data is not loaded.
pub fn csv_for_view(state: &State, site: &str) -> Option<(String, String)> {
    let body = match state.tab {
        Tab::Overview => export::comparison_csv(state.budget.ready()?),
        Tab::Lifecycle => {
            let lifecycle = export::lifecycle_csv(state.lifecycle.ready()?);
            match state.budget.ready() {
                Some(b) => export::sections(&[lifecycle, export::funnel_csv(&b.current.funnel)]),
                None => lifecycle,
            }
        }
        Tab::Engagement => {
            let engagement = export::engagement_csv(state.engagement.ready()?);
            match state.accounts.ready() {
                Some(page) => export::sections(&[engagement, export::accounts_csv(page)]),
                None => engagement,
            }
        }
        Tab::Spend => export::budget_csv(state.budget.ready()?),
        Tab::WhatIf => {
            let r = state.budget.ready()?;
            export::what_if_csv(&r.current, r.verdict.kind, &projection(r, state.moved_bp))
        }
    };
    let safe: String =
        site.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let name = format!("daytwo-{safe}-{}-{}-to-{}.csv", state.tab.slug(), state.period.from, state.period.last_day());
    Some((name, body))
}

/// Offers `text` as a download named `name` (a Blob behind a temporary object URL).
pub fn download(name: &str, text: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let document = window.document().ok_or_else(|| JsValue::from_str("no document"))?;
    // A byte-order mark so spreadsheet programs read the file as UTF-8.
    let parts = js_sys::Array::of1(&JsValue::from_str(&format!("\u{feff}{text}")));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Revoke once the click has been handled.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    window.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000)?;
    Ok(())
}
