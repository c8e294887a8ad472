//! Component tests in a real browser (wasm-bindgen-test, headless Chromium):
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p daytwo-widget --target wasm32-unknown-unknown`.
//!
//! Fixtures are the API's real answers over a generated site, rewritten by one command
//! (`tests/fixtures/README.md`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_debug_implementations)]

use daytwo_shared::money::Currency;
use daytwo_shared::report::{
    AccountDetail, AccountPage, BudgetReport, EngagementReport, FunnelReport, LifecycleReport, what_if_at,
};
use daytwo_widget::components::account_detail::account_detail;
use daytwo_widget::components::accounts_table::{AccountsView, accounts_table};
use daytwo_widget::components::bar_chart::{BarChart, BarRow, Segment, aria_label, write_bar_chart};
use daytwo_widget::components::column_chart::write_column_chart;
use daytwo_widget::components::error_panel::error_panel;
use daytwo_widget::components::kpi::{Kpi, Polarity, write_kpis};
use daytwo_widget::components::overview::overview;
use daytwo_widget::components::spend::spend;
use daytwo_widget::components::stages::stages;
use daytwo_widget::components::tabs::tabs;
use daytwo_widget::components::what_if::{projected_sentence, what_if_view};
use daytwo_widget::format::{self, money, money_delta, pct, times};
use daytwo_widget::markup::Markup;
use daytwo_widget::services::api::ApiError;
use daytwo_widget::services::api::Config;
use daytwo_widget::services::decode::{Decode, from_json};
use daytwo_widget::state::{Remote, Tab};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const BUDGET: &str = include_str!("fixtures/budget.json");
const LIFECYCLE: &str = include_str!("fixtures/lifecycle.json");
const ENGAGEMENT: &str = include_str!("fixtures/engagement.json");
const AT_RISK: &str = include_str!("fixtures/at_risk.json");
const FUNNEL: &str = include_str!("fixtures/funnel.json");
const DETAIL: &str = include_str!("fixtures/account_detail.json");

fn budget() -> BudgetReport {
    serde_json::from_str(BUDGET).unwrap()
}

/// Lets yew's scheduler render (it runs after the current task).
async fn settle() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

fn container() -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div
}

/// Mounts a view function (the widget's parts are plain functions of data to `Html`).
#[derive(Properties)]
struct HostProps {
    view: Rc<dyn Fn() -> Html>,
}

impl PartialEq for HostProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.view, &other.view)
    }
}

#[component]
fn Host(props: &HostProps) -> Html {
    (props.view)()
}

fn mount(root: &Element, view: impl Fn() -> Html + 'static) -> yew::AppHandle<Host> {
    yew::Renderer::<Host>::with_root_and_props(root.clone(), HostProps { view: Rc::new(view) }).render()
}

fn text(root: &Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn formatting_helpers() {
    let usd = Currency::parse("usd").unwrap();
    assert_eq!(money(123_456_789, &usd), "USD 1,234,567.89");
    assert_eq!(money(-5, &usd), "−USD 0.05");
    assert_eq!(money(1200, &Currency::parse("JPY").unwrap()), "JPY 1,200");
    assert_eq!(money_delta(Some(250), &usd), "+USD 2.50");
    assert_eq!(money_delta(None, &usd), "—");
    assert_eq!(pct(Some(0.726_758_968)), "72.7%");
    assert_eq!(pct(None), "—");
    assert_eq!(times(Some(1.488_944_931)), "1.49×");
    assert_eq!(times(None), "—");
    assert_eq!(format::points(Some(-3.25)), "−3.3 pts");
    assert_eq!(format::points_delta(Some(0.0105)), "+1.1 pts");
    assert_eq!(format::count(1_234_567), "1,234,567");
    assert_eq!(format::count_delta(-3), "−3");
    let day = daytwo_shared::time::Day::parse("2026-07-03").unwrap();
    assert_eq!(format::date(day), "3 Jul 2026");
    let period =
        daytwo_shared::report::Period { from: day, to: daytwo_shared::time::Day::parse("2026-10-01").unwrap() };
    assert_eq!(format::period(period), "3 Jul – 30 Sep 2026");
}

#[wasm_bindgen_test]
async fn overview_shows_the_report_figures_and_dashes_for_null() {
    // The fixture, with CAC and LTV:CAC undefined (no new customers would make them null).
    let mut v: Value = serde_json::from_str(BUDGET).unwrap();
    v["acquisition"]["cac_minor"] = Value::Null;
    v["ltv_to_cac"] = Value::Null;
    v["deltas"]["cac_minor"] = Value::Null;
    v["public_key_revenue_minor"] = serde_json::json!(12_345);
    let report: BudgetReport = serde_json::from_value(v).unwrap();
    let cur = report.currency.clone();
    let root = container();
    let shown = report.clone();
    let explored = Rc::new(std::cell::Cell::new(0));
    let on_explore = {
        let explored = explored.clone();
        Callback::from(move |()| explored.set(explored.get() + 1))
    };
    let handle = mount(&root, move || overview(&shown, &on_explore));
    settle().await;
    // The verdict's one control is markup: the overview's listener reads its `data-act`. A click elsewhere,
    // even inside the same paragraph, opens nothing.
    let click =
        |selector: &str| root.query_selector(selector).unwrap().unwrap().dyn_into::<HtmlElement>().unwrap().click();
    click(".dt-whatif-line strong");
    click("[data-kpi=cac]");
    assert_eq!(explored.get(), 0);
    let button = root.query_selector(".dt-whatif-line button").unwrap().unwrap();
    assert_eq!(button.text_content().unwrap_or_default(), "Try other splits →");
    click(".dt-whatif-line button");
    assert_eq!(explored.get(), 1, "the button opens the what-if view");

    let kpi = |id: &str| text(&root, &format!("[data-kpi={id}] .dt-kpi-value"));
    assert_eq!(kpi("acquisition_spend"), money(report.current.acquisition.spend_minor, &cur));
    assert_eq!(kpi("acquisition_spend"), "USD 19,866.00");
    assert_eq!(kpi("retention_spend"), "USD 7,469.06");
    assert_eq!(kpi("revenue_new"), money(report.current.acquisition.revenue_minor, &cur));
    assert_eq!(kpi("revenue_existing"), money(report.current.retention.revenue_minor, &cur));
    assert_eq!(kpi("retention_rate"), "94.1%");
    assert_eq!(kpi("ltv"), "USD 14,789.69");
    assert_eq!(kpi("cac"), "—");
    assert_eq!(kpi("ltv_to_cac"), "—");
    let all = root.text_content().unwrap_or_default();
    assert!(!all.contains("NaN") && !all.contains("inf"), "no NaN or infinity on screen");
    // The verdict with the numbers behind it.
    assert_eq!(text(&root, "[data-fact=acquisition_share]"), "72.7%");
    assert_eq!(text(&root, "[data-fact=new_revenue_share]"), "3.4%");
    assert_eq!(text(&root, "[data-fact=difference]"), "+69.3 pts");
    assert!(all.contains(&report.verdict.message), "the verdict message is shown");
    assert!(all.contains("60–80%") && all.contains("5–20%"), "the seed's reference figures are shown");
    // Charts have accessible names and a table alternative.
    let svg = root.query_selector("svg[role=img]").unwrap().unwrap();
    let label = svg.get_attribute("aria-label").unwrap();
    assert!(label.contains("Spend") && label.contains("Revenue"), "{label}");
    assert!(root.query_selector("details.dt-alt table").unwrap().is_some());
    // The revenue that came with the public write key, which any visitor could have sent.
    let row = format!("of which sent with the public write key{}", money(12_345, &cur));
    assert!(all.contains(&row), "the public key's revenue is shown: {row}");
    handle.destroy();
}

#[derive(Properties, PartialEq)]
struct WhatIfHarnessProps {
    report: Rc<BudgetReport>,
}

/// The what-if view with its slider position held like the app holds it.
#[component]
fn WhatIfHarness(props: &WhatIfHarnessProps) -> Html {
    let pos = use_state(|| 0);
    let on_move = {
        let pos = pos.clone();
        Callback::from(move |p| pos.set(p))
    };
    what_if_view(&props.report, *pos, &on_move)
}

#[wasm_bindgen_test]
async fn what_if_slider_recomputes_live_with_the_domain_function() {
    let report = budget();
    let cur = report.currency.clone();
    let root = container();
    let handle = yew::Renderer::<WhatIfHarness>::with_root_and_props(
        root.clone(),
        WhatIfHarnessProps { report: Rc::new(report.clone()) },
    )
    .render();
    settle().await;
    let slider: HtmlInputElement = root.query_selector("input[type=range]").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(slider.value(), "0");
    // Basis points of total spend: −retention's share, +acquisition's (746,906 and 1,986,600 of 2,733,506).
    assert_eq!(slider.min(), "-2732");
    assert_eq!(slider.max(), "7267");

    for position in [3000, -2000, 7267, 1250, report.verdict.what_if.position_bp] {
        slider.set_value(&position.to_string());
        let ev = web_sys::InputEvent::new("input").unwrap();
        slider.dispatch_event(&ev).unwrap();
        settle().await;
        let w = what_if_at(&report.current, position, report.verdict.tolerance_points);
        assert_eq!(w.position_bp, position);
        assert_eq!(
            text(&root, "[data-kpi=wi_acquisition_spend] .dt-kpi-value"),
            money(w.acquisition_spend_minor, &cur)
        );
        assert_eq!(text(&root, "[data-kpi=wi_retention_spend] .dt-kpi-value"), money(w.retention_spend_minor, &cur));
        assert_eq!(text(&root, "[data-kpi=wi_revenue_delta] .dt-kpi-value"), money_delta(w.revenue_delta_minor, &cur));
        assert_eq!(text(&root, "[data-whatif=sentence]"), projected_sentence(&w, report.verdict.tolerance_points));
        let verdict = root.query_selector("[data-whatif-verdict]").unwrap().unwrap();
        assert_eq!(verdict.get_attribute("data-whatif-verdict").unwrap(), w.verdict_kind.as_str());
    }
    // The move itself, in words: 30% of USD 27,335.06, rounded to the cent.
    slider.set_value("3000");
    slider.dispatch_event(&web_sys::InputEvent::new("input").unwrap()).unwrap();
    settle().await;
    assert_eq!(
        text(&root, "[data-whatif=movement]"),
        "Move USD 8,200.52 (30.0% of spend) from acquisition to retention"
    );
    // The keyboard moves whole percent of spend (the slider itself holds every basis point).
    for key in ["ArrowRight", "ArrowRight", "PageDown"] {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        slider.dispatch_event(&ev).unwrap();
        settle().await;
    }
    assert_eq!(slider.value(), "2200");
    handle.destroy();
}

#[derive(Properties, PartialEq)]
struct PickerHarnessProps {}

/// The period picker over the app's own state and reducer.
#[component]
fn PickerHarness(_props: &PickerHarnessProps) -> Html {
    let state =
        use_reducer(|| daytwo_widget::state::State::new(daytwo_shared::time::Day::parse("2026-11-15").unwrap()));
    let dispatch = state.dispatcher().to_callback();
    html! { <>
        { daytwo_widget::components::period_picker::period_picker(&state, &dispatch) }
        <output>{ format!("{}/{}", state.period.from, state.period.to) }</output>
    </> }
}

/// The picker's options and the custom period's fields are markup (`markup.rs`): choosing, typing, applying
/// and refusing a reversed range work through them as they did through yew's elements.
#[wasm_bindgen_test]
async fn the_period_picker_applies_presets_and_custom_ranges() {
    let root = container();
    let handle = yew::Renderer::<PickerHarness>::with_root_and_props(root.clone(), PickerHarnessProps {}).render();
    settle().await;
    let select: web_sys::HtmlSelectElement = root.query_selector("select").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(select.value(), "d90", "the state's preset is the selected option");
    assert_eq!(root.query_selector_all("option").unwrap().length(), 5);
    let choose = |value: &str| {
        select.set_value(value);
        select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    };
    choose("d30");
    settle().await;
    assert_eq!(text(&root, "output"), "2026-10-17/2026-11-16");
    assert_eq!(select.value(), "d30");
    assert!(root.query_selector("form").unwrap().is_none());
    choose("custom");
    settle().await;
    assert_eq!(select.value(), "custom");
    let input = |name: &str| -> HtmlInputElement {
        root.query_selector(&format!("input[name={name}]")).unwrap().unwrap().dyn_into().unwrap()
    };
    assert_eq!(input("from").value(), "2026-10-17", "the fields start at the current period");
    assert_eq!(input("to").value(), "2026-11-15", "the last day, included");
    let submit = || {
        let form: web_sys::HtmlFormElement = root.query_selector("form").unwrap().unwrap().dyn_into().unwrap();
        form.request_submit().unwrap();
    };
    input("from").set_value("2026-11-01");
    input("to").set_value("2026-10-01");
    submit();
    settle().await;
    assert_eq!(text(&root, "[role=alert]"), "Pick a start on or before the end (at most ten years).");
    assert_eq!(text(&root, "output"), "2026-10-17/2026-11-16", "a reversed range changes nothing");
    input("from").set_value("2026-09-01");
    input("to").set_value("2026-09-30");
    submit();
    settle().await;
    assert_eq!(text(&root, "output"), "2026-09-01/2026-10-01");
    assert!(root.query_selector("[role=alert]").unwrap().is_none());
    assert_eq!(input("from").value(), "2026-09-01");
    handle.destroy();
}

#[derive(Properties, PartialEq)]
struct TabsHarnessProps {}

#[component]
fn TabsHarness(_props: &TabsHarnessProps) -> Html {
    let tab = use_state(|| Tab::Overview);
    let on_select = {
        let tab = tab.clone();
        Callback::from(move |t| tab.set(t))
    };
    tabs(*tab, &on_select)
}

#[wasm_bindgen_test]
async fn tabs_follow_the_arrow_keys() {
    let root = container();
    let handle = yew::Renderer::<TabsHarness>::with_root_and_props(root.clone(), TabsHarnessProps {}).render();
    settle().await;
    let selected = |root: &Element| text(root, "[role=tab][aria-selected=true]");
    assert_eq!(selected(&root), "Overview");
    let first: HtmlElement = root.query_selector("[role=tab]").unwrap().unwrap().dyn_into().unwrap();
    first.focus().unwrap();
    let press = |key: &str| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        let active = web_sys::window().unwrap().document().unwrap().active_element().unwrap();
        active.dispatch_event(&ev).unwrap();
    };
    press("ArrowRight");
    settle().await;
    assert_eq!(selected(&root), "Lifecycle");
    let active = web_sys::window().unwrap().document().unwrap().active_element().unwrap();
    assert_eq!(active.text_content().unwrap_or_default(), "Lifecycle", "focus follows the selection");
    press("ArrowLeft");
    press("ArrowLeft");
    settle().await;
    assert_eq!(selected(&root), "What-if", "wraps around");
    press("Home");
    settle().await;
    assert_eq!(selected(&root), "Overview");
    // Only the selected tab is in the tab order.
    assert_eq!(root.query_selector_all("[role=tab][tabindex='0']").unwrap().length(), 1);
    handle.destroy();
}

#[wasm_bindgen_test]
async fn lifecycle_chart_has_an_accessible_name_with_the_counts() {
    let report: LifecycleReport = serde_json::from_str(LIFECYCLE).unwrap();
    let root = container();
    let handle = mount(&root, move || stages(&report));
    settle().await;
    let label = root.query_selector("svg[role=img]").unwrap().unwrap().get_attribute("aria-label").unwrap();
    assert!(label.contains("Prospect: 156 · 80.4%"), "{label}");
    assert!(label.contains("At risk: 1 · 0.5%"), "{label}");
    handle.destroy();
}

/// The spend view's campaign table (written as markup): a row group per channel with its total in bold,
/// a row per campaign, and the period's total, each with its share of spend.
#[wasm_bindgen_test]
async fn spend_lists_every_channel_and_campaign() {
    let r = budget();
    let c = r.current.clone();
    let root = container();
    let report = r.clone();
    let handle = mount(&root, move || spend(&report));
    settle().await;
    let channels =
        root.query_selector_all("section[aria-labelledby=dt-campaigns-title] tbody tr[data-channel]").unwrap();
    assert_eq!(channels.length() as usize, c.channels.len());
    let campaigns: usize = c.channels.iter().map(|ch| ch.campaigns.len()).sum();
    assert_eq!(root.query_selector_all("tr.dt-sub-row").unwrap().length() as usize, campaigns);
    let first = &c.channels[0];
    let row: Element = channels.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(row.get_attribute("data-channel").as_deref(), Some(first.channel.as_str()));
    assert_eq!(text(&row, "th[scope=rowgroup]"), first.channel);
    assert_eq!(text(&row, "strong"), money(first.total_minor, &r.currency));
    let total = text(&root, "tr.dt-total");
    assert!(total.starts_with("Total") && total.contains(&money(c.total_spend_minor, &r.currency)), "{total}");
    handle.destroy();
}

/// The charts, their tables and the key figures are written as markup text (`markup.rs`): data in them
/// stays text, wherever it goes (text, attribute, tooltip), and the charts' shapes are SVG elements.
#[wasm_bindgen_test]
async fn charts_tables_and_figures_write_data_as_text() {
    let evil = "<img src=x onerror=window.__xss2=1>\"'&";
    let rows = vec![BarRow {
        label: evil.into(),
        segments: vec![
            Segment { value: 3.0, class: "k-acq", title: format!("a {evil}"), inside: Some(evil.into()) },
            Segment { value: 1.0, class: "k-ret", title: "b".into(), inside: None },
        ],
        value: evil.into(),
    }];
    let table_rows = vec![vec![evil.to_owned(), evil.to_owned()]];
    let tiles = vec![Kpi {
        id: "cac",
        label: "CAC",
        value: evil.into(),
        delta: Some((Some(-2.0), evil.into(), Polarity::UpIsBad)),
        note: evil.into(),
    }];
    let columns = vec![(evil.to_owned(), 4u64, "k-hist"), ("b".to_owned(), 0u64, "k-hist")];
    let root = container();
    let (r, t, k, c) = (rows.clone(), table_rows.clone(), tiles.clone(), columns.clone());
    let handle = mount(&root, move || {
        let chart = BarChart {
            title: evil,
            rows: &r,
            max: None,
            label_width: 20.0,
            value_width: 20.0,
            legend: &[("k-acq", "Acquisition")],
            table_head: &["Row", "Value"],
            table_rows: &t,
        };
        Markup::with(|m| {
            write_bar_chart(m, &chart);
            write_kpis(m, &k, "vs previous");
            write_column_chart(m, evil, &c, &["Score", "Customers"]);
        })
    });
    settle().await;
    assert!(root.query_selector("img").unwrap().is_none(), "no element was created from the data");
    let xss = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__xss2".into()).unwrap();
    assert!(xss.is_undefined());
    let svg = root.query_selector("svg.dt-chart").unwrap().unwrap();
    assert_eq!(svg.get_attribute("aria-label").unwrap(), aria_label(evil, &rows));
    // Two SVG charts: the bars' track and two segments, the columns' one bar (a zero column has height 0).
    let shapes = root.query_selector_all("svg rect").unwrap();
    assert_eq!(shapes.length(), 3 + 2);
    for i in 0..shapes.length() {
        let e: Element = shapes.item(i).unwrap().dyn_into().unwrap();
        assert_eq!(e.namespace_uri().as_deref(), Some("http://www.w3.org/2000/svg"), "{}", e.outer_html());
    }
    assert_eq!(text(&root, "svg g text"), evil);
    assert_eq!(text(&root, "svg rect.k-acq title"), format!("a {evil}"));
    assert_eq!(text(&root, "svg text.dt-in"), evil);
    assert_eq!(text(&root, "details.dt-alt caption"), evil);
    assert_eq!(text(&root, "details.dt-alt tbody th"), evil);
    assert_eq!(text(&root, "details.dt-alt tbody td"), evil);
    assert_eq!(text(&root, "[data-kpi=cac] .dt-kpi-value"), evil);
    assert_eq!(text(&root, "[data-kpi=cac] .dt-kpi-note"), evil);
    assert_eq!(text(&root, "[data-kpi=cac] .dt-delta.dt-good"), format!("▼ {evil} vs previous"));
    let columns_svg = root.query_selector_all("svg.dt-chart").unwrap().item(1).unwrap();
    let label = columns_svg.dyn_into::<Element>().unwrap().get_attribute("aria-label").unwrap();
    assert_eq!(label, format!("{evil}. {evil}: 4, b: 0"));
    handle.destroy();
}

/// The widget's allocator (talc, `lib.rs`) reuses what is freed: rounds of many allocations of mixed sizes,
/// each freed before the next, leave the wasm memory at the size the first rounds grew it to.
#[wasm_bindgen_test]
fn freed_memory_is_reused() {
    let memory_bytes = || {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().dyn_into().unwrap();
        memory.buffer().dyn_into::<js_sys::ArrayBuffer>().unwrap().byte_length()
    };
    let mut seed = 0x2545_f491_u32;
    let mut round = || {
        let mut held: Vec<String> = Vec::new();
        for i in 0..20_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut s = String::with_capacity((seed % 3_000) as usize + 1);
            s.push(char::from(b'a' + (i % 26) as u8));
            held.push(s);
            // Free some as we go, as a render does, so the heap holds holes of every size.
            if seed.is_multiple_of(3) {
                held.swap_remove((seed as usize / 3) % held.len());
            }
        }
        held.len()
    };
    let kept = round() + round();
    let after_warm_up = memory_bytes();
    for _ in 0..8 {
        assert!(round() > 0);
    }
    assert!(kept > 0);
    assert_eq!(memory_bytes(), after_warm_up, "memory grew after the first rounds: freed blocks were not reused");
}

#[wasm_bindgen_test]
async fn account_names_render_as_text_only() {
    let mut v: Value = serde_json::from_str(AT_RISK).unwrap();
    let evil = "<img src=x onerror=window.__xss=1>";
    v["accounts"][0]["name"] = Value::String(evil.into());
    let page: AccountPage = serde_json::from_value(v).unwrap();
    let engagement: EngagementReport = serde_json::from_str(ENGAGEMENT).unwrap();
    let names = Rc::new(engagement.indicators.iter().map(|i| (i.id.clone(), i.name.clone())).collect::<Vec<_>>());
    let root = container();
    let accounts = Remote::Ready(Rc::new(page));
    let config = Config::new("http://127.0.0.1:9", "demo", "t");
    let handle = mount(&root, move || {
        accounts_table(&AccountsView {
            accounts: &accounts,
            names: &names,
            stage: "at_risk",
            open: None,
            loading_more: false,
            config: &config,
            on_stage: Callback::noop(),
            on_open: Callback::noop(),
            on_more: Callback::noop(),
            on_retry: Callback::noop(),
        })
    });
    settle().await;
    assert_eq!(text(&root, "tbody th button"), evil);
    // Each row shows its playbook actions from the list itself (no request per row).
    assert!(root.text_content().unwrap_or_default().contains("Schedule a customer-success check-in"));
    assert!(root.query_selector("img").unwrap().is_none(), "no element was created from the name");
    settle().await;
    let xss = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__xss".into()).unwrap();
    assert!(xss.is_undefined());
    // Indicator ids read as their names.
    let row = text(&root, "tbody tr");
    assert!(row.contains("Modules licensed") && row.contains("Active days"), "{row}");
    handle.destroy();
}

/// The drill-down's body and the error panel are markup text (`markup.rs`): what the API sends (indicator
/// names, playbook actions, modules, an error's message) stays text.
#[wasm_bindgen_test]
async fn drill_down_and_errors_write_api_text_as_text() {
    let evil = "<img src=x onerror=window.__xss3=1>\"'&";
    let mut v: Value = serde_json::from_str(DETAIL).unwrap();
    let action = v["actions"][0].clone();
    assert!(action.is_object(), "the fixture's account has a playbook action");
    for key in ["title", "channel", "why"] {
        v["actions"][0][key] = Value::String(evil.into());
    }
    v["modules"] = serde_json::json!([evil]);
    let indicator = v["breakdown"][0]["id"].as_str().unwrap().to_owned();
    let detail: AccountDetail = serde_json::from_value(v).unwrap();
    let names = Rc::new(vec![(indicator, evil.to_owned())]);
    let config = Config::new("http://127.0.0.1:9", "demo", "t");
    let error = ApiError::Http { status: 500, code: evil.into(), message: evil.into() };
    let root = container();
    let remote = Remote::Ready(Rc::new(detail.clone()));
    let handle = mount(&root, move || {
        let heading = NodeRef::default();
        let (none, currency) = (Callback::noop(), Currency::parse("USD").unwrap());
        html! { <>
            { account_detail(&remote, &names, Some(&currency), &config, &heading, &none, &none) }
            { error_panel(&error, &config, Some(&none)) }
        </> }
    });
    settle().await;
    assert!(root.query_selector("img").unwrap().is_none(), "no element was created from the data");
    let xss = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__xss3".into()).unwrap();
    assert!(xss.is_undefined());
    let action = text(&root, "#dt-account-detail .dt-actions li");
    assert_eq!(action, format!("{evil} {evil}{evil}"), "title, channel and why as text");
    assert_eq!(text(&root, "#dt-account-detail .dt-small .dt-chip"), evil);
    let rows = root.query_selector_all("#dt-account-detail tbody tr").unwrap();
    assert_eq!(rows.length() as usize, detail.breakdown.len(), "one row per indicator");
    let shown: Vec<String> = (0..rows.length())
        .map(|i| rows.item(i).unwrap().dyn_into::<Element>().unwrap().query_selector("th").unwrap().unwrap())
        .map(|th| th.text_content().unwrap_or_default())
        .collect();
    assert!(shown.iter().any(|n| n == evil), "the indicator's name as text: {shown:?}");
    let alert = root.query_selector(".dt-error").unwrap().unwrap();
    assert_eq!(alert.get_attribute("data-error").as_deref(), Some("http_500"));
    assert_eq!(text(&root, ".dt-error p"), format!("{evil} (500 {evil})"));
    assert!(root.query_selector(".dt-error button").unwrap().is_some(), "a server error offers Retry");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn app_without_a_token_says_so_and_requests_nothing() {
    let root = container();
    let props = daytwo_widget::app::AppProps { config: Config::new("http://127.0.0.1:9", "demo", "") };
    let handle = yew::Renderer::<daytwo_widget::app::App>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let alert = root.query_selector("[role=alert]").unwrap().unwrap();
    assert_eq!(alert.get_attribute("data-error").unwrap(), "missing_token");
    assert!(alert.text_content().unwrap_or_default().contains("token"));
    assert!(root.query_selector("[role=tablist]").unwrap().is_none());
    handle.destroy();
}

#[wasm_bindgen_test]
async fn app_with_an_unreachable_worker_offers_retry() {
    let root = container();
    // Port 9 (discard) is closed: fetch fails without an HTTP answer.
    let props = daytwo_widget::app::AppProps { config: Config::new("http://127.0.0.1:9", "demo", "token") };
    let handle = yew::Renderer::<daytwo_widget::app::App>::with_root_and_props(root.clone(), props).render();
    for _ in 0..100 {
        settle().await;
        if root.query_selector("[data-error=network]").unwrap().is_some() {
            break;
        }
    }
    let alert = root.query_selector("#panel-overview [role=alert]").unwrap().expect("an error state");
    assert_eq!(alert.get_attribute("data-error").unwrap(), "network");
    assert!(alert.text_content().unwrap_or_default().contains("cannot be reached"));
    let retry = alert.query_selector("button").unwrap().expect("a Retry button");
    assert_eq!(retry.text_content().unwrap_or_default(), "Retry");
    handle.destroy();
}

/// The hand-written decoders, reading the browser's `JSON.parse` output, give exactly what serde's derived
/// `Deserialize` gives on every fixture (`tests/decode.rs` checks them natively on generated reports too).
#[wasm_bindgen_test]
fn decoders_agree_with_serde() {
    fn same<T: Decode + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str) {
        let by_serde: T = serde_json::from_str(json).unwrap();
        let decoded: T = from_json(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded, by_serde);
    }
    same::<BudgetReport>(BUDGET);
    same::<LifecycleReport>(LIFECYCLE);
    same::<EngagementReport>(ENGAGEMENT);
    same::<FunnelReport>(FUNNEL);
    same::<AccountPage>(AT_RISK);
    same::<AccountDetail>(DETAIL);
    same::<BudgetReport>(include_str!("fixtures/budget_q4_2025.json"));
    same::<BudgetReport>(include_str!("fixtures/budget_no_data.json"));
    same::<AccountPage>(include_str!("fixtures/lapsed.json"));
    same::<AccountPage>(include_str!("fixtures/accounts.json"));
    same::<AccountDetail>(include_str!("fixtures/prospect_detail.json"));
    // Unknown keys are ignored (the Worker adds `tail`), nulls read as None.
    let mut v: Value = serde_json::from_str(BUDGET).unwrap();
    v["tail"] = serde_json::json!({"keys": 3, "truncated": false});
    v["acquisition"]["cac_minor"] = Value::Null;
    same::<BudgetReport>(&v.to_string());
    // A missing required field or a wrong type is refused, naming the field.
    let mut v: Value = serde_json::from_str(LIFECYCLE).unwrap();
    v["stages"]["lead"] = Value::String("many".into());
    let e = from_json::<LifecycleReport>(&v.to_string()).unwrap_err();
    assert!(e.contains("stages.`lead`"), "{e}");
    assert!(from_json::<AccountPage>("{}").is_err());
    assert!(from_json::<AccountPage>("not json").is_err());
}

fn loaded_state() -> daytwo_widget::state::State {
    use daytwo_widget::state::State;
    let mut s = State::new(daytwo_shared::time::Day::parse("2026-09-30").unwrap());
    s.budget = Remote::Ready(Rc::new(budget()));
    s.lifecycle = Remote::Ready(Rc::new(serde_json::from_str(LIFECYCLE).unwrap()));
    s.engagement = Remote::Ready(Rc::new(serde_json::from_str(ENGAGEMENT).unwrap()));
    s.accounts = Remote::Ready(Rc::new(serde_json::from_str(AT_RISK).unwrap()));
    s
}

/// The CSV export of each view asks the API for the files of the reports the view shows, with the
/// queries it was loaded with (`download::export_paths`); the e2e suite checks the downloads are the API's.
#[wasm_bindgen_test]
fn csv_export_of_every_view_asks_the_api_for_its_tables() {
    use daytwo_widget::download::{export_paths, file_name};
    let mut s = loaded_state();
    let range = "from=2026-07-03&to=2026-10-01";
    let mut paths = |tab: Tab| {
        s.tab = tab;
        export_paths(&s).unwrap()
    };
    assert_eq!(paths(Tab::Overview), [format!("reports/budget?{range}&format=csv&table=comparison")]);
    assert_eq!(paths(Tab::Spend), [format!("reports/budget?{range}&format=csv")]);
    assert_eq!(
        paths(Tab::Lifecycle),
        ["reports/lifecycle?as_of=2026-09-30&format=csv".to_owned(), format!("reports/funnel?{range}&format=csv")]
    );
    let listed: AccountPage = serde_json::from_str(AT_RISK).unwrap();
    assert_eq!(
        paths(Tab::Engagement),
        [
            "reports/engagement?as_of=2026-09-30&format=csv".to_owned(),
            format!("accounts?stage=at_risk&sort=score&limit={}&as_of=2026-09-30&format=csv", listed.accounts.len()),
        ]
    );
    s.moved_bp = -1250;
    s.tab = Tab::WhatIf;
    assert_eq!(export_paths(&s).unwrap(), [format!("reports/budget?{range}&format=csv&table=what_if&move_bp=-1250")]);
    assert_eq!(file_name(&s, "demo site"), "daytwo-demo_site-what-if-2026-07-03-to-2026-09-30.csv");
    // Nothing to export before the view's report has loaded.
    s.budget = Remote::Loading;
    assert_eq!(export_paths(&s), None);
}

#[wasm_bindgen_test]
fn stale_answers_are_dropped() {
    use daytwo_widget::state::{Action, Payload, Preset, State};
    use yew::Reducible;
    let s = Rc::new(State::new(daytwo_shared::time::Day::parse("2026-09-30").unwrap()));
    let old = s.generation;
    let period = Preset::Days(30).period(s.today).unwrap();
    let s = s.reduce(Action::SetPeriod(Preset::Days(30), period));
    assert_eq!(s.period, period);
    assert_ne!(s.generation, old);
    let s = s.reduce(Action::Loaded(old, Payload::Lifecycle(Ok(serde_json::from_str(LIFECYCLE).unwrap()))));
    assert_eq!(s.lifecycle, Remote::Loading, "an answer for the previous period is ignored");
    let now = s.generation;
    let s = s.reduce(Action::Loaded(now, Payload::Lifecycle(Ok(serde_json::from_str(LIFECYCLE).unwrap()))));
    assert!(s.lifecycle.ready().is_some());
    let s = s.reduce(Action::Retry);
    assert_eq!(s.lifecycle, Remote::Loading);
    // The last full quarter before 30 Sep 2026 is Q2: 1 Apr – 30 Jun.
    let q = Preset::LastQuarter.period(s.today).unwrap();
    assert_eq!((q.from.to_string(), q.to.to_string()), ("2026-04-01".into(), "2026-07-01".into()));
}

/// A report whose `data_status` has a notice (incomplete figures) puts a visible alert above the figures;
/// a notice of an older period is dropped, and a new period clears it until a report says so again.
/// A failed export is said until an export succeeds (the app shows it above the figures).
#[wasm_bindgen_test]
fn export_failures_are_kept_until_an_export_succeeds() {
    use daytwo_widget::state::Action;
    use yew::Reducible;
    let s = Rc::new(loaded_state());
    assert_eq!(s.export_error, None);
    let failed = s.reduce(Action::Exported(Some("No answer from the API".into())));
    assert_eq!(failed.export_error.as_deref(), Some("No answer from the API"));
    let other = failed.reduce(Action::SelectTab(Tab::Spend));
    assert_eq!(other.export_error.as_deref(), Some("No answer from the API"), "kept while the user moves on");
    assert_eq!(other.reduce(Action::Exported(None)).export_error, None);
}

#[wasm_bindgen_test]
async fn incomplete_data_shows_a_notice_above_the_figures() {
    use daytwo_widget::components::data_notice::data_notice;
    use daytwo_widget::services::decode::from_json_with_notice;
    use daytwo_widget::state::{Action, Preset, State};
    use yew::Reducible;
    let mut v: Value = serde_json::from_str(LIFECYCLE).unwrap();
    let sentence = "These figures are incomplete: 3340 of 3840 recently received event batches are not included yet.";
    v["data_status"] = serde_json::json!({"complete": false, "pending_batches": 3840, "pending_included": 500,
        "rolled_up_to": null, "unreadable_batches": 0, "last_rollup_error": null, "last_rollup_at": null,
        "notice": sentence});
    let (report, notice) = from_json_with_notice::<LifecycleReport>(&v.to_string()).unwrap();
    assert_eq!(report, serde_json::from_str::<LifecycleReport>(LIFECYCLE).unwrap());
    assert_eq!(notice.as_deref(), Some(sentence));
    v["data_status"] = serde_json::json!({"complete": true, "notice": null});
    assert_eq!(from_json_with_notice::<LifecycleReport>(&v.to_string()).unwrap().1, None);

    let s = Rc::new(State::new(daytwo_shared::time::Day::parse("2026-09-30").unwrap()));
    let old = s.generation;
    let s = s.reduce(Action::Notice(old, sentence.into()));
    assert_eq!(s.notice.as_deref(), Some(sentence));
    let period = Preset::Days(30).period(s.today).unwrap();
    let s = s.reduce(Action::SetPeriod(Preset::Days(30), period));
    assert_eq!(s.notice, None, "a new period clears the notice");
    let s = s.reduce(Action::Notice(old, sentence.into()));
    assert_eq!(s.notice, None, "a notice of the previous period is ignored");

    let root = container();
    let shown = sentence.to_owned();
    let _app = mount(&root, move || data_notice(Some(&shown)));
    settle().await;
    let alert = root.query_selector(".dt-notice[role=alert]").unwrap().expect("an alert");
    assert!(alert.text_content().unwrap_or_default().contains("3340 of 3840"));
    let empty = container();
    let _none = mount(&empty, || data_notice(None));
    settle().await;
    assert!(empty.query_selector(".dt-notice").unwrap().is_none());
}

/// Every choice of the period picker but "Custom" is a period the Worker's read model keeps (with the period
/// before it, and its default day), so picking it never waits for a fold of the site's history.
#[wasm_bindgen_test]
fn every_preset_is_one_the_read_model_keeps() {
    use daytwo_shared::query::default_as_of;
    use daytwo_shared::read_model::IndexPlan;
    use daytwo_widget::state::{Preset, today};
    let today = today();
    let plan = IndexPlan::of(today);
    let periods: Vec<_> = Preset::ALL.into_iter().filter_map(|p| p.period(today)).collect();
    assert_eq!(periods.len(), Preset::ALL.len() - 1);
    for p in periods {
        assert!(plan.periods.contains(&p) && plan.periods.contains(&p.previous()), "{p:?}");
        assert!(plan.days.contains(&default_as_of(p, today)), "{p:?}");
    }
}
