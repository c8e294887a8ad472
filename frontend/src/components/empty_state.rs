//! The empty state: the request worked, but there is nothing to show for this period yet.

use crate::markup::Markup;
use yew::Html;

pub fn write_empty_state(m: &mut Markup, title: &str, detail: &str) {
    m.open("div", &[("class", Some("dt-status dt-empty")), ("role", Some("status"))]);
    m.element("h3", &[], title).element("p", &[], detail).close("div");
}

pub fn empty_state(title: &str, detail: &str) -> Html {
    Markup::with(|m| write_empty_state(m, title, detail))
}
