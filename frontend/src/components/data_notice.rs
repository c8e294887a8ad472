//! The notice above the figures when a report is not complete, or its rollup is failing (`data_status` of the
//! API): executives must never read partial numbers without being told. The wording, which says which of the
//! two it is, comes from `shared::data_status`.

use yew::prelude::*;

pub fn data_notice(notice: Option<&str>) -> Html {
    match notice {
        Some(text) => html! {
            <div class="dt-notice" role="alert">
                <strong>{ "Data status: " }</strong>{ text }
            </div>
        },
        None => Html::default(),
    }
}
