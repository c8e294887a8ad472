//! The empty state: the request worked, but there is nothing to show for this period yet.

use yew::prelude::*;

pub fn empty_state(title: &str, detail: &str) -> Html {
    html! {
        <div class="dt-status dt-empty" role="status">
            <h3>{ title }</h3>
            <p>{ detail }</p>
        </div>
    }
}
