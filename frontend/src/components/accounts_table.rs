//! The account list (at-risk accounts by default): name, score, trend, the indicators pulling the score
//! down, and the playbook actions. Names are untrusted: rendered as text, never as markup.

use super::empty_state::empty_state;
use super::error_panel::error_panel;
use super::loading::loading;
use crate::format::{self, count};
use crate::markup::Markup;
use crate::services::api::Config;
use crate::state::{ACCOUNT_STAGES, Remote};
use daytwo_shared::engagement::Band;
use daytwo_shared::report::{AccountPage, AccountSummary};
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Indicator id → display name (from the engagement report).
pub type Names = Rc<Vec<(String, String)>>;

pub fn indicator_name(names: &Names, id: &str) -> String {
    names.iter().find(|(k, _)| k == id).map_or_else(|| format::title_case(id), |(_, v)| v.clone())
}

pub fn account_name(a: &AccountSummary) -> String {
    match &a.name {
        Some(n) if !n.trim().is_empty() => n.clone(),
        _ => a.id.clone(),
    }
}

/// The band as a coloured chip ("Engaged"); nothing without a band.
pub fn write_band_chip(m: &mut Markup, band: Option<Band>) {
    if let Some(b) = band {
        let class = format!("dt-chip dt-chip-{}", b.as_str());
        m.element("span", &[("class", Some(&class))], &format::title_case(b.as_str()));
    }
}

/// The score's change over 30 days, arrowed and coloured.
pub fn write_trend(m: &mut Markup, trend: Option<i16>) {
    let (class, text) = match trend {
        None => ("dt-flat", format::NONE.to_owned()),
        Some(t) if t > 0 => ("dt-delta dt-good", format!("▲ +{t}")),
        Some(t) if t < 0 => ("dt-delta dt-bad", format!("▼ {}{}", format::MINUS, -i32::from(t))),
        Some(_) => ("dt-delta dt-flat", "0".to_owned()),
    };
    m.element("span", &[("class", Some(class))], &text);
}

/// The score and its band's chip.
pub fn write_score(m: &mut Markup, score: Option<u8>, band: Option<Band>) {
    m.element("span", &[("class", Some("dt-score"))], &format::count_opt(score.map(u64::from)));
    write_band_chip(m, band);
}

/// What the account card needs from the app.
#[derive(Clone, Debug)]
pub struct AccountsView<'a> {
    pub accounts: &'a Remote<AccountPage>,
    pub names: &'a Names,
    pub stage: &'static str,
    pub open: Option<&'a str>,
    pub loading_more: bool,
    pub config: &'a Config,
    pub on_stage: Callback<&'static str>,
    pub on_open: Callback<String>,
    pub on_more: Callback<()>,
    pub on_retry: Callback<()>,
}

/// The first two playbook actions, and how many more.
fn write_playbook(m: &mut Markup, a: &AccountSummary) {
    if a.actions.is_empty() {
        m.element("span", &[("class", Some("dt-muted"))], "No action defined");
        return;
    }
    m.open("ul", &[("class", Some("dt-actions"))]);
    for x in a.actions.iter().take(2) {
        m.element("li", &[], &x.title);
    }
    if a.actions.len() > 2 {
        m.element("li", &[("class", Some("dt-muted"))], &format!("+{} more", a.actions.len() - 2));
    }
    m.close("ul");
}

fn row(v: &AccountsView<'_>, a: &AccountSummary) -> Html {
    let (id, on_open) = (a.id.clone(), v.on_open.clone());
    let selected = v.open == Some(a.id.as_str());
    html! {
        <tr class={selected.then_some("dt-sel")} data-account={a.id.clone()}>
            <th scope="row">
                <button type="button" class="dt-link" aria-expanded={if selected { "true" } else { "false" }}
                    onclick={move |_| on_open.emit(id.clone())}>{ account_name(a) }</button>
            </th>
            <td class="dt-num">{ Markup::with(|m| write_score(m, a.score, a.band)) }</td>
            <td class="dt-num">{ Markup::with(|m| write_trend(m, a.trend)) }</td>
            <td>{ Markup::with(|m| for i in &a.pulling_down {
                m.element("span", &[("class", Some("dt-chip"))], &indicator_name(v.names, i));
            }) }</td>
            <td>{ Markup::with(|m| write_playbook(m, a)) }</td>
        </tr>
    }
}

/// The list's columns and their classes.
const HEAD: [(&str, Option<&str>); 5] = [
    ("Account", None),
    ("Score", Some("dt-num")),
    ("Trend (30 d)", Some("dt-num")),
    ("Pulling the score down", None),
    ("Playbook", None),
];

pub fn accounts_table(v: &AccountsView<'_>) -> Html {
    let (_, heading, none) = ACCOUNT_STAGES.iter().find(|(k, ..)| *k == v.stage).copied().unwrap_or(ACCOUNT_STAGES[0]);
    let on_stage = v.on_stage.clone();
    let on_select = move |e: Event| {
        if let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() {
            let value = sel.value();
            if let Some((k, ..)) = ACCOUNT_STAGES.iter().find(|(k, ..)| *k == value) {
                on_stage.emit(k);
            }
        }
    };
    let options = Markup::with(|m| {
        for (k, label, _) in ACCOUNT_STAGES {
            m.element("option", &[("value", Some(k)), ("selected", (k == v.stage).then_some(""))], label);
        }
    });
    let body = match v.accounts {
        Remote::Loading => loading("Loading accounts…"),
        Remote::Failed(e) => error_panel(e, v.config, Some(&v.on_retry)),
        Remote::Ready(page) if page.accounts.is_empty() => empty_state("Nobody to list", none),
        Remote::Ready(page) => {
            let on_more = v.on_more.clone();
            html! {
                <>
                    <div class="dt-scroll">
                        <table class="dt-table dt-accounts">
                            { Markup::with(|m| {
                                let caption = format!("{heading}, lowest engagement score first");
                                m.element("caption", &[("class", Some("dt-sr"))], &caption).open("thead", &[]).open("tr", &[]);
                                for (h, class) in HEAD {
                                    m.element("th", &[("scope", Some("col")), ("class", class)], h);
                                }
                                m.close("tr").close("thead");
                            }) }
                            <tbody>{ for page.accounts.iter().map(|a| row(v, a)) }</tbody>
                        </table>
                    </div>
                    <div class="dt-row dt-foot-row">
                        { Markup::with(|m| {
                            let shown = format!("Showing {} of {}", count(page.accounts.len() as u64), count(page.total as u64));
                            m.element("span", &[("class", Some("dt-card-note"))], &shown);
                        }) }
                        if page.next_cursor.is_some() {
                            <button type="button" class="dt-btn" disabled={v.loading_more} onclick={move |_| on_more.emit(())}>
                                { if v.loading_more { "Loading…" } else { "Show more" } }
                            </button>
                        }
                    </div>
                </>
            }
        }
    };
    html! {
        <section class="dt-card" aria-label={heading}>
            <div class="dt-card-head">
                { Markup::with(|m| { m.element("h3", &[], heading); }) }
                <label class="dt-field">
                    { Markup::with(|m| { m.element("span", &[], "Show"); }) }
                    <select class="dt-select" onchange={on_select}>{ options }</select>
                </label>
            </div>
            { body }
        </section>
    }
}
