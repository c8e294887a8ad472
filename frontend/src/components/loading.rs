//! The loading state.

use crate::markup::Markup;
use yew::Html;

pub fn loading(label: &str) -> Html {
    Markup::with(|m| {
        m.open(
            "div",
            &[("class", Some("dt-status dt-loading")), ("role", Some("status")), ("aria-live", Some("polite"))],
        );
        m.open("div", &[("class", Some("dt-spinner")), ("aria-hidden", Some("true"))]).close("div");
        m.element("p", &[], label).close("div");
    })
}
