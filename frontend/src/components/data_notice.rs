//! The notice above the figures when a report is not complete, or its rollup is failing (`data_status` of the
//! API): executives must never read partial numbers without being told. The wording, which says which of the
//! two it is, comes from `shared::data_status`.

use crate::markup::Markup;
use yew::Html;

pub fn data_notice(notice: Option<&str>) -> Html {
    match notice {
        Some(text) => Markup::with(|m| {
            m.open("div", &[("class", Some("dt-notice")), ("role", Some("alert"))]);
            m.element("strong", &[], "Data status: ").text(text).close("div");
        }),
        None => Html::default(),
    }
}
