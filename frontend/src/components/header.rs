//! The dashboard's header: title, site and period, the period picker, CSV export and Print.

use super::period_picker::period_picker;
use crate::format;
use crate::markup::Markup;
use crate::state::{Action, State};
use yew::prelude::*;

/// `can_export`: whether the current view has loaded what its export needs; `controls`: whether to show
/// the period picker and the buttons (not when the dashboard cannot load at all).
pub fn header(
    site: &str,
    state: &State,
    dispatch: &Callback<Action>,
    on_export: &Callback<()>,
    can_export: bool,
    on_print: &Callback<()>,
    controls: bool,
) -> Html {
    let (export, print) = (on_export.clone(), on_print.clone());
    let p = state.period;
    html! {
        <header class="dt-head">
            { Markup::with(|m| {
                m.open("div", &[]).element("h2", &[("class", Some("dt-title"))], "Customer lifecycle & budget");
                let (range, sub) = (
                    format!("{}/{}", p.from, p.to),
                    format!("{site} · {} · compared with the previous {} days", format::period(p), p.days()),
                );
                m.element("p", &[("class", Some("dt-sub")), ("data-period", Some(&range))], &sub).close("div");
            }) }
            if controls {
            <div class="dt-controls">
                { period_picker(state, dispatch) }
                <button type="button" class="dt-btn" disabled={!can_export} onclick={move |_| export.emit(())}
                    title="Download what this view shows as CSV">{ "Export CSV" }</button>
                <button type="button" class="dt-btn" onclick={move |_| print.emit(())} title="Print or save as PDF">{ "Print" }</button>
            </div>
            }
        </header>
    }
}
