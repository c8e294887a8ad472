//! A plain figures table: the first column names the row, the others are numbers (right-aligned).
//! Charts use it as their accessible alternative.

use crate::markup::Markup;

/// Opens a figures table in `m`: its scrolling box, caption and header row (numbers' columns right-aligned),
/// up to the open `<tbody>`; [`close_table`] ends it.
pub fn open_table(m: &mut Markup, caption: &str, head: &[&str]) {
    m.open("div", &[("class", Some("dt-scroll"))]).open("table", &[("class", Some("dt-table"))]);
    m.element("caption", &[("class", Some("dt-sr"))], caption).open("thead", &[]).open("tr", &[]);
    for (i, h) in head.iter().enumerate() {
        m.element("th", &[("scope", Some("col")), ("class", (i > 0).then_some("dt-num"))], h);
    }
    m.close("tr").close("thead").open("tbody", &[]);
}

pub fn close_table(m: &mut Markup) {
    m.close("tbody").close("table").close("div");
}

/// Writes the table into `m` (charts write it inside their own figure).
pub fn write_data_table(m: &mut Markup, caption: &str, head: &[&'static str], rows: &[Vec<String>]) {
    open_table(m, caption, head);
    for r in rows {
        m.open("tr", &[]);
        for (i, c) in r.iter().enumerate() {
            if i == 0 {
                m.element("th", &[("scope", Some("row"))], c);
            } else {
                m.element("td", &[("class", Some("dt-num"))], c);
            }
        }
        m.close("tr");
    }
    close_table(m);
}
