//! A titled card: the building block of every view.

use crate::markup::Markup;

/// Opens a `<section>` labelled by its heading, with an optional note beside the heading; the caller writes
/// the body and closes the section.
pub fn open_card(m: &mut Markup, title: &str, note: &str) {
    m.open("section", &[("class", Some("dt-card")), ("aria-label", Some(title))]);
    m.open("div", &[("class", Some("dt-card-head"))]).element("h3", &[], title);
    if !note.is_empty() {
        m.element("span", &[("class", Some("dt-card-note"))], note);
    }
    m.close("div");
}
