//! The view switcher: a WAI-ARIA tab list with roving focus (arrow keys, Home, End) and automatic activation.

use crate::state::Tab;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

pub fn tabs(selected: Tab, on_select: &Callback<Tab>) -> Html {
    let select = on_select.clone();
    let onkeydown = move |e: KeyboardEvent| {
        let n = Tab::ALL.len();
        // From the focused tab itself (it may be ahead of the last render when keys repeat quickly).
        let focused = e.target().and_then(|t| t.dyn_into::<Element>().ok()).map(|el| el.id());
        let i = Tab::ALL
            .iter()
            .position(|t| focused.as_deref() == Some(&*format!("tab-{}", t.slug())))
            .unwrap_or(selected.index());
        let next = Tab::ALL[match e.key().as_str() {
            "ArrowRight" | "ArrowDown" => (i + 1) % n,
            "ArrowLeft" | "ArrowUp" => (i + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        }];
        e.prevent_default();
        select.emit(next);
        // The tab buttons stay in the DOM: move focus to the newly selected one.
        let list = e.current_target().and_then(|t| t.dyn_into::<Element>().ok());
        if let Some(el) = list.and_then(|l| l.query_selector(&format!("#tab-{}", next.slug())).ok().flatten()) {
            let _ = el.unchecked_into::<HtmlElement>().focus();
        }
    };
    html! {
        <div class="dt-tabs" role="tablist" aria-label="Dashboard views" {onkeydown}>
            { for Tab::ALL.iter().map(|tab| {
                let is = *tab == selected;
                let (select, tab) = (on_select.clone(), *tab);
                html! {
                    <button type="button" role="tab" class="dt-tab" id={format!("tab-{}", tab.slug())}
                        aria-selected={if is { "true" } else { "false" }} aria-controls={format!("panel-{}", tab.slug())}
                        tabindex={if is { "0" } else { "-1" }} onclick={move |_| select.emit(tab)}>
                        { tab.label() }
                    </button>
                }
            }) }
        </div>
    }
}
