//! CSV export of what the current view shows: the API's own CSV of the view's reports (`format=csv`, and
//! for the budget views `table=comparison|spend|what_if`), fetched with the widget's token and offered as a
//! Blob download. The files are the API's, byte for byte; the wasm writes none (the CSV writers in it were
//! 5.7 KB of its gzip transfer, measured 2026-12-08).

use crate::services::api;
use crate::state::{State, Tab};
use wasm_bindgen::{JsCast, JsValue};

/// Whether the current view has loaded what its export needs.
pub fn can_export(state: &State) -> bool {
    match state.tab {
        Tab::Overview | Tab::Spend | Tab::WhatIf => state.budget.ready().is_some(),
        Tab::Lifecycle => state.lifecycle.ready().is_some(),
        Tab::Engagement => state.engagement.ready().is_some(),
    }
}

/// The API paths (under the site) whose CSV the current view's file holds, in order, or `None` while the view
/// has not loaded what it shows. The queries are the ones the view was loaded with, so the file holds the
/// figures on screen (or newer ones, if events arrived since).
pub fn export_paths(state: &State) -> Option<Vec<String>> {
    if !can_export(state) {
        return None;
    }
    let (range, as_of) = (api::range(state.period), format!("as_of={}", state.as_of));
    // The view's own request, in CSV.
    let csv = |name: &str, query: &str| api::report_path(name, query) + "&format=csv";
    let budget = |table: &str| csv("budget", &range) + table;
    Some(match state.tab {
        Tab::Overview => vec![budget("&table=comparison")],
        Tab::Spend => vec![budget("")],
        Tab::WhatIf => vec![budget(&format!("&table=what_if&move_bp={}", state.moved_bp))],
        Tab::Lifecycle => {
            vec![csv("lifecycle", &as_of), csv("funnel", &range)]
        }
        Tab::Engagement => {
            let mut paths = vec![csv("engagement", &as_of)];
            // The accounts listed so far (every page shown), lowest score first as on screen.
            if let Some(page) = state.accounts.ready() {
                let shown = page.accounts.len().clamp(1, daytwo_shared::report::MAX_PAGE);
                paths.push(api::accounts_path(state.account_stage, state.as_of, shown, None) + "&format=csv");
            }
            paths
        }
    })
}

/// The file's name: the site, the view and the period.
pub fn file_name(state: &State, site: &str) -> String {
    let safe: String =
        site.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("daytwo-{safe}-{}-{}-to-{}.csv", state.tab.slug(), state.period.from, state.period.last_day())
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
