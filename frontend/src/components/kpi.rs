//! One key figure: label, value, change against the previous period, and a note.

use crate::markup::Markup;

/// Whether a rise is good news, bad news, or neither (spend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    UpIsGood,
    UpIsBad,
    Neutral,
}

/// A key figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Kpi {
    /// Identifies the tile for tests and exports (`data-kpi`).
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    /// The change and how it reads: (numeric change, text, polarity); `None`: no change shown.
    pub delta: Option<(Option<f64>, String, Polarity)>,
    pub note: String,
}

fn write_delta(m: &mut Markup, change: Option<f64>, text: &str, polarity: Polarity, vs: &str) {
    let sign = change.map(|v| {
        if v > 1e-12 {
            1
        } else if v < -1e-12 {
            -1
        } else {
            0
        }
    });
    let class = match (sign, polarity) {
        (Some(1), Polarity::UpIsGood) | (Some(-1), Polarity::UpIsBad) => "dt-delta dt-good",
        (Some(1), Polarity::UpIsBad) | (Some(-1), Polarity::UpIsGood) => "dt-delta dt-bad",
        _ => "dt-delta dt-flat",
    };
    let arrow = match sign {
        Some(1) => "▲ ",
        Some(-1) => "▼ ",
        _ => "",
    };
    m.open("div", &[("class", Some(class))]);
    if change.is_none() {
        m.text(&crate::format::sentence(vs.strip_prefix("vs ").unwrap_or(vs))).text(": —");
    } else {
        m.element("span", &[("aria-hidden", Some("true"))], arrow).text(text);
        m.open("span", &[("class", Some("dt-flat"))]).text(" ").text(vs).close("span");
    }
    m.close("div");
}

/// One tile; `vs` names what the change is against ("vs previous").
fn write_kpi(m: &mut Markup, k: &Kpi, vs: &str) {
    m.open("div", &[("class", Some("dt-kpi")), ("data-kpi", Some(k.id))]);
    m.element("div", &[("class", Some("dt-kpi-label"))], k.label);
    m.element("div", &[("class", Some("dt-kpi-value"))], &k.value);
    if let Some((change, text, polarity)) = &k.delta {
        write_delta(m, *change, text, *polarity, vs);
    }
    m.element("div", &[("class", Some("dt-kpi-note"))], &k.note).close("div");
}

/// A grid of key figures (four or five a row).
pub fn write_kpis(m: &mut Markup, list: &[Kpi], vs: &str) {
    m.open("div", &[("class", Some(if list.len() == 5 { "dt-kpis dt-kpis-5" } else { "dt-kpis" }))]);
    for k in list {
        write_kpi(m, k, vs);
    }
    m.close("div");
}
