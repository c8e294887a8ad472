//! The period picker: last 30/90/365 days, the last full quarter, or a custom from–to (both days included).

use crate::state::{Action, Preset, State};
use daytwo_shared::query::MAX_PERIOD_DAYS;
use daytwo_shared::report::Period;
use daytwo_shared::time::Day;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The day in the form's `<input name=…>`, if it holds one.
fn input_day(form: &Element, name: &str) -> Option<Day> {
    let input = form.query_selector(&format!("input[name={name}]")).ok()??;
    Day::parse(&input.dyn_into::<HtmlInputElement>().ok()?.value()).ok()
}

pub fn period_picker(state: &State, dispatch: &Callback<Action>) -> Html {
    let today = state.today;
    let on_select = dispatch.reform(move |e: Event| {
        let key = e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default();
        match Preset::from_key(&key) {
            Some(p) => match p.period(today) {
                Some(range) => Action::SetPeriod(p, range),
                None => Action::EditCustom(true),
            },
            None => Action::EditCustom(false),
        }
    });
    let on_apply = dispatch.reform(|e: SubmitEvent| {
        e.prevent_default();
        let form = e.target_dyn_into::<Element>();
        match form.as_ref().map(|f| (input_day(f, "from"), input_day(f, "to"))) {
            Some((Some(from), Some(last))) if from <= last && last.days_since(from) < MAX_PERIOD_DAYS => {
                Action::SetPeriod(Preset::Custom, Period { from, to: last.plus(1) })
            }
            _ => Action::CustomInvalid,
        }
    });
    html! {
        <div class="dt-row">
            <label class="dt-field">
                <span>{ "Period" }</span>
                <select class="dt-select" onchange={on_select}>
                    { for Preset::ALL.iter().map(|p| html! {
                        <option value={p.key()} selected={*p == state.preset}>{ p.label(today) }</option>
                    }) }
                </select>
            </label>
            if state.preset == Preset::Custom {
                <form class="dt-row" onsubmit={on_apply} aria-label="Custom period">
                    <label class="dt-field"><span>{ "From" }</span>
                        <input class="dt-input" type="date" name="from" value={state.period.from.to_string()} required=true />
                    </label>
                    <label class="dt-field"><span>{ "To" }</span>
                        <input class="dt-input" type="date" name="to" value={state.period.last_day().to_string()} required=true />
                    </label>
                    <button type="submit" class="dt-btn">{ "Apply" }</button>
                    if state.custom_invalid {
                        <span class="dt-bad dt-small" role="alert">{ "Pick a start on or before the end (at most ten years)." }</span>
                    }
                </form>
            }
        </div>
    }
}
