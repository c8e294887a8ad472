//! One key figure: label, value, change against the previous period, and a note.

use yew::prelude::*;

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

fn delta_view(change: Option<f64>, text: &str, polarity: Polarity, vs: &str) -> Html {
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
    if change.is_none() {
        return html! { <div class={class}>{ format!("{}: —", crate::format::sentence(vs.strip_prefix("vs ").unwrap_or(vs))) }</div> };
    }
    html! { <div class={class}><span aria-hidden="true">{ arrow }</span>{ text }<span class="dt-flat">{ format!(" {vs}") }</span></div> }
}

/// One tile; `vs` names what the change is against ("vs previous").
pub fn kpi(k: &Kpi, vs: &str) -> Html {
    html! {
        <div class="dt-kpi" data-kpi={k.id}>
            <div class="dt-kpi-label">{ k.label }</div>
            <div class="dt-kpi-value">{ &k.value }</div>
            if let Some((change, text, polarity)) = &k.delta { { delta_view(*change, text, *polarity, vs) } }
            <div class="dt-kpi-note">{ &k.note }</div>
        </div>
    }
}

/// A grid of key figures (four or five a row).
pub fn kpis(list: &[Kpi], vs: &str) -> Html {
    html! { <div class={if list.len() == 5 { "dt-kpis dt-kpis-5" } else { "dt-kpis" }}>{ for list.iter().map(|k| kpi(k, vs)) }</div> }
}
