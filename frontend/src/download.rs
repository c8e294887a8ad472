//! CSV export of what the current view shows, built in the browser with the domain's `export` functions
//! (RFC 4180, formula-injection safe), and downloaded as a Blob.

use crate::components::overview::comparison_rows;
use crate::components::what_if::projection;
use crate::state::{State, Tab};
use daytwo_shared::export::{self, Cell};
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
        Tab::Overview => {
            let r = state.budget.ready()?;
            let rows: Vec<Vec<Cell>> =
                comparison_rows(r).into_iter().map(|row| row.into_iter().map(Cell::Text).collect()).collect();
            let mut csv = export::table(&["metric", "this_period", "previous_period", "change"], &rows);
            csv.push_str("\r\n");
            csv.push_str(&export::table(
                &["verdict", "message", "what_if"],
                &[vec![
                    crate::format::verdict_code(r.verdict.kind).into(),
                    r.verdict.message.clone().into(),
                    crate::components::verdict_card::what_if_sentence(&r.verdict.what_if, &r.currency).into(),
                ]],
            ));
            csv
        }
        Tab::Lifecycle => {
            let mut csv = export::lifecycle_csv(state.lifecycle.ready()?);
            if let Some(b) = state.budget.ready() {
                csv.push_str("\r\n");
                csv.push_str(&export::funnel_csv(&b.current.funnel));
            }
            csv
        }
        Tab::Engagement => {
            let mut csv = export::engagement_csv(state.engagement.ready()?);
            if let Some(page) = state.accounts.ready() {
                csv.push_str("\r\n");
                csv.push_str(&export::accounts_csv(page));
            }
            csv
        }
        Tab::Spend => export::budget_csv(state.budget.ready()?),
        Tab::WhatIf => {
            let r = state.budget.ready()?;
            let w = projection(r, state.moved_pct);
            let c = &r.current;
            let rows: Vec<Vec<Cell>> = vec![
                vec![
                    "moved_minor".into(),
                    Cell::Int(0),
                    Cell::Int(if w.from_purpose == daytwo_shared::report::Purpose::Acquisition {
                        w.moved_minor
                    } else {
                        -w.moved_minor
                    }),
                ],
                vec![
                    "acquisition_spend_minor".into(),
                    c.acquisition.spend_minor.into(),
                    w.acquisition_spend_minor.into(),
                ],
                vec!["retention_spend_minor".into(), c.retention.spend_minor.into(), w.retention_spend_minor.into()],
                vec!["acquisition_share".into(), c.acquisition.share.into(), w.acquisition_share.into()],
                vec![
                    "revenue_new_minor".into(),
                    c.acquisition.revenue_minor.into(),
                    w.acquisition_revenue_minor.into(),
                ],
                vec![
                    "revenue_existing_minor".into(),
                    c.retention.revenue_minor.into(),
                    w.retention_revenue_minor.into(),
                ],
                vec!["new_revenue_share".into(), c.acquisition.revenue_share.into(), w.new_revenue_share.into()],
                vec![
                    "verdict".into(),
                    crate::format::verdict_code(r.verdict.kind).into(),
                    crate::format::verdict_code(w.verdict_kind).into(),
                ],
            ];
            export::table(&["figure", "now", "after_move"], &rows)
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
