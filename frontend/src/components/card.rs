//! A titled card: the building block of every view.

use yew::prelude::*;

/// A `<section>` labelled by its heading, with an optional note beside the heading.
pub fn card(title: &str, note: &str, body: Html) -> Html {
    html! {
        <section class="dt-card" aria-label={title.to_owned()}>
            <div class="dt-card-head">
                <h3>{ title }</h3>
                if !note.is_empty() { <span class="dt-card-note">{ note }</span> }
            </div>
            { body }
        </section>
    }
}
