//! The period picker: last 30/90/365 days, the last full quarter, or a custom from–to (both days included).

use crate::markup::Markup;
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
    // The options and the custom period's fields are markup: the form is read when submitted, and yew keeps a
    // raw node whose text has not changed, so typing is never interrupted by a render.
    let options = Markup::with(|m| {
        for p in Preset::ALL {
            let (key, label) = (p.key(), p.label(today));
            m.element("option", &[("value", Some(&key)), ("selected", (p == state.preset).then_some(""))], &label);
        }
    });
    let fields = Markup::with(|m| {
        for (label, name, day) in [("From", "from", state.period.from), ("To", "to", state.period.last_day())] {
            m.open("label", &[("class", Some("dt-field"))]).element("span", &[], label);
            let value = day.to_string();
            let input = [
                ("class", Some("dt-input")),
                ("type", Some("date")),
                ("name", Some(name)),
                ("value", Some(&value[..])),
                ("required", Some("")),
            ];
            m.open("input", &input).close("label");
        }
        m.element("button", &[("type", Some("submit")), ("class", Some("dt-btn"))], "Apply");
        if state.custom_invalid {
            let alert = [("class", Some("dt-bad dt-small")), ("role", Some("alert"))];
            m.element("span", &alert, "Pick a start on or before the end (at most ten years).");
        }
    });
    html! {
        <div class="dt-row">
            <label class="dt-field">
                { Markup::with(|m| { m.element("span", &[], "Period"); }) }
                <select class="dt-select" onchange={on_select}>{ options }</select>
            </label>
            if state.preset == Preset::Custom {
                <form class="dt-row" onsubmit={on_apply} aria-label="Custom period">{ fields }</form>
            }
        </div>
    }
}
