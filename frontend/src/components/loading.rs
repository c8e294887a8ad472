//! The loading state.

use yew::prelude::*;

pub fn loading(label: &str) -> Html {
    html! {
        <div class="dt-status dt-loading" role="status" aria-live="polite">
            <div class="dt-spinner" aria-hidden="true"></div>
            <p>{ label }</p>
        </div>
    }
}
