//! The root component: owns the state, starts the requests, lays out the header, tabs and views.

use crate::components::account_detail::account_detail;
use crate::components::accounts_table::{AccountsView, Names, accounts_table};
use crate::components::bands::write_bands;
use crate::components::data_notice::data_notice;
use crate::components::empty_state::empty_state;
use crate::components::error_panel::error_panel;
use crate::components::funnel::funnel;
use crate::components::header::header;
use crate::components::indicators::indicators;
use crate::components::loading::loading;
use crate::components::overview::overview;
use crate::components::score_histogram::write_score_histogram;
use crate::components::spend::spend;
use crate::components::stages::stages;
use crate::components::tabs::tabs;
use crate::components::what_if::what_if_view;
use crate::format;
use crate::markup::Markup;
use crate::services::api::{self, Config};
use crate::state::{Action, Payload, Remote, State, Tab, detail, today};
use daytwo_shared::report::{BudgetReport, EngagementReport};
use daytwo_shared::time::Day;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[derive(Properties, Clone, Debug, PartialEq)]
pub struct AppProps {
    pub config: Config,
}

type Dispatcher = UseReducerDispatcher<State>;

/// The report of a fetch; its `data_status` notice, if any, goes to the state (shown above the figures).
fn report<T>(r: Result<api::Fetched<T>, api::ApiError>, d: &Dispatcher, generation: u32) -> Result<T, api::ApiError> {
    r.map(|f| {
        if let Some(notice) = f.notice {
            d.dispatch(Action::Notice(generation, notice));
        }
        f.report
    })
}

/// Loads the details (score breakdown and playbook actions) of `ids`, one request each (the drill-down).
fn load_details(config: &Config, dispatch: &Dispatcher, generation: u32, as_of: Day, ids: Vec<String>) {
    for id in ids {
        let (c, d) = (config.clone(), dispatch.clone());
        spawn_local(async move {
            let r = report(api::account(&c, &id, as_of).await, &d, generation);
            d.dispatch(Action::Loaded(generation, Payload::Detail(id, Box::new(r))));
        });
    }
}

/// Loads a page of accounts in `stage` (each row carries its playbook actions).
fn load_accounts(config: Config, dispatch: Dispatcher, state: &State, cursor: Option<String>) {
    let (generation, stage, as_of) = (state.generation, state.account_stage, state.as_of);
    spawn_local(async move {
        let result = report(api::accounts(&config, stage, as_of, cursor.as_deref()).await, &dispatch, generation);
        dispatch.dispatch(Action::Loaded(generation, Payload::Accounts { stage, result, append: cursor.is_some() }));
    });
}

/// Why the last CSV export failed (until one succeeds).
fn export_notice(error: Option<&str>) -> Html {
    let Some(error) = error else { return Html::default() };
    Markup::with(|m| {
        m.open(
            "div",
            &[("class", Some("dt-notice dt-noprint")), ("role", Some("alert")), ("data-export-error", Some(""))],
        );
        m.element("strong", &[], "The CSV export failed: ").text(error).close("div");
    })
}

/// The day the stages are of and the reports' currency.
fn footer(as_of: Day, currency: &str) -> Html {
    Markup::with(|m| {
        let text = format!("Stages and scores as of {} · money in {currency}", format::date(as_of));
        m.open("footer", &[("class", Some("dt-foot"))]).element("span", &[], &text);
        m.element("span", &[], "Daytwo").close("footer");
    })
}

/// The engagement bands beside the score distribution.
fn engagement_grid(r: &EngagementReport) -> Html {
    Markup::with(|m| {
        m.open("div", &[("class", Some("dt-grid"))]);
        write_bands(m, r);
        write_score_histogram(m, r);
        m.close("div");
    })
}

/// Nothing happened in the period: no spend, no revenue, no customers to keep, no prospects.
fn budget_is_empty(r: &BudgetReport) -> bool {
    let c = &r.current;
    c.total_spend_minor == 0
        && c.total_revenue_minor == 0
        && c.acquisition.new_customers == 0
        && c.retention.customers_at_start == 0
        && c.funnel.awareness == 0
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let state = use_reducer(|| State::new(today()));
    let config = &props.config;

    // The period's reports.
    {
        let (config, dispatch) = (config.clone(), state.dispatcher());
        use_effect_with((state.period, state.as_of, state.generation), move |&(period, as_of, generation)| {
            if config.check().is_ok() {
                let (c, d) = (config.clone(), dispatch.clone());
                spawn_local(async move {
                    let r = report(api::budget(&c, period).await, &d, generation);
                    d.dispatch(Action::Loaded(generation, Payload::Budget(Box::new(r))));
                });
                let (c, d) = (config.clone(), dispatch.clone());
                spawn_local(async move {
                    let r = report(api::lifecycle(&c, as_of).await, &d, generation);
                    d.dispatch(Action::Loaded(generation, Payload::Lifecycle(r)));
                });
                spawn_local(async move {
                    let r = report(api::engagement(&config, as_of).await, &dispatch, generation);
                    dispatch.dispatch(Action::Loaded(generation, Payload::Engagement(r)));
                });
            }
        });
    }
    // The account list of the chosen stage.
    {
        let (config, dispatch, snapshot) = (config.clone(), state.dispatcher(), (*state).clone());
        use_effect_with((state.as_of, state.generation, state.account_stage), move |_| {
            if config.check().is_ok() {
                load_accounts(config, dispatch, &snapshot, None);
            }
        });
    }

    let dispatch = state.dispatcher().to_callback();
    let on_tab = dispatch.reform(Action::SelectTab);
    let on_stage = dispatch.reform(Action::SetAccountStage);
    let on_move = dispatch.reform(Action::SetMove);
    let retry = dispatch.reform(|()| Action::Retry);
    let on_close = dispatch.reform(|()| Action::CloseAccount);
    let on_explore = dispatch.reform(|()| Action::SelectTab(Tab::WhatIf));
    let on_export = {
        let (state, config) = (state.clone(), config.clone());
        Callback::from(move |()| {
            let Some(paths) = crate::download::export_paths(&state) else { return };
            let (name, config, dispatch) =
                (crate::download::file_name(&state, &config.site), config.clone(), state.dispatcher());
            spawn_local(async move {
                let offered = match api::csv(&config, &paths).await {
                    Ok(text) => crate::download::download(&name, &text)
                        .map_err(|e| e.as_string().unwrap_or_else(|| "the browser refused the download".into())),
                    Err(e) => Err(e.detail(&config)),
                };
                dispatch.dispatch(Action::Exported(offered.err()));
            });
        })
    };
    let on_print = Callback::from(|()| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let on_open = {
        let (state, config) = (state.clone(), config.clone());
        Callback::from(move |id: String| {
            let needs_load = !matches!(detail(&state.details, &id), Some(Remote::Ready(_) | Remote::Loading));
            state.dispatch(Action::OpenAccount(id.clone()));
            if needs_load {
                load_details(&config, &state.dispatcher(), state.generation, state.as_of, vec![id]);
            }
        })
    };
    let on_more = {
        let (state, config) = (state.clone(), config.clone());
        Callback::from(move |()| {
            if let Some(cursor) = state.accounts.ready().and_then(|p| p.next_cursor.clone()) {
                state.dispatch(Action::LoadingMore);
                load_accounts(config.clone(), state.dispatcher(), &state, Some(cursor));
            }
        })
    };
    // Focus the drill-down's heading once an opened account has loaded.
    let heading = use_node_ref();
    {
        let heading = heading.clone();
        let ready =
            state.open_account.as_ref().is_some_and(|id| matches!(detail(&state.details, id), Some(Remote::Ready(_))));
        use_effect_with((state.open_account.clone(), ready), move |(_, ready)| {
            if *ready && let Some(h) = heading.cast::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        });
    }
    let names: Names = (*use_memo(state.engagement.clone(), |e| {
        Rc::new(
            e.ready()
                .map(|r| r.indicators.iter().map(|i| (i.id.clone(), i.name.clone())).collect::<Vec<_>>())
                .unwrap_or_default(),
        )
    }))
    .clone();

    // A report that is still loading, failed, or ready to show.
    let show = |r: Option<Html>, error: Option<&api::ApiError>| match (r, error) {
        (Some(html), _) => html,
        (None, Some(e)) => error_panel(e, config, Some(&retry)),
        (None, None) => loading("Loading…"),
    };
    let budget = state.budget.ready();
    let with_budget = |f: &dyn Fn(&BudgetReport) -> Html| show(budget.map(|r| f(r)), state.budget.error());

    let fatal = config.check().err().or_else(|| state.fatal_error().cloned());
    let controls = fatal.is_none();
    let content = if let Some(error) = fatal {
        error_panel(&error, config, None)
    } else {
        let period = state.period;
        let overview = with_budget(&|r| {
            if budget_is_empty(r) {
                empty_state(
                    "No data for this period yet",
                    &format!(
                        "Daytwo has no spend, purchases or customers for {}. Pick a longer period, or check that events and spend are being recorded.",
                        format::period(period)
                    ),
                )
            } else {
                overview(r, &on_explore)
            }
        });
        let lifecycle = html! {
            <div class="dt-grid">
                { show(state.lifecycle.ready().map(|r| stages(r)), state.lifecycle.error()) }
                { with_budget(&|r| funnel(&r.current.funnel)) }
            </div>
        };
        let open_detail = state.open_account.as_ref().map(|id| {
            let (on_open, key) = (on_open.clone(), id.clone());
            account_detail(
                detail(&state.details, id).unwrap_or(&Remote::Loading),
                &names,
                budget.map(|b| &b.currency),
                config,
                &heading,
                &on_close,
                &Callback::from(move |()| on_open.emit(key.clone())),
            )
        });
        let engagement_report = state.engagement.ready();
        let engagement = html! {
            <div class="dt-stack">
                { show(engagement_report.map(|r| engagement_grid(r)), state.engagement.error()) }
                { accounts_table(&AccountsView {
                    accounts: &state.accounts,
                    names: &names,
                    stage: state.account_stage,
                    open: state.open_account.as_deref(),
                    loading_more: state.loading_more,
                    config,
                    on_stage,
                    on_open: on_open.clone(),
                    on_more,
                    on_retry: retry.clone(),
                }) }
                { for open_detail }
                { for engagement_report.map(|r| indicators(r)) }
            </div>
        };
        let spend = with_budget(&spend);
        let what_if = with_budget(&|r| what_if_view(r, state.moved_bp, &on_move));
        let panels = [overview, lifecycle, engagement, spend, what_if];
        html! {
            <>
                { tabs(state.tab, &on_tab) }
                { for Tab::ALL.iter().zip(panels).map(|(tab, body)| html! {
                    <section role="tabpanel" id={format!("panel-{}", tab.slug())} aria-labelledby={format!("tab-{}", tab.slug())}
                        hidden={state.tab != *tab} tabindex="0">
                        { Markup::with(|m| { m.element("h3", &[("class", Some("dt-panel-title"))], tab.label()); }) }
                        { body }
                    </section>
                }) }
            </>
        }
    };
    html! {
        <div class="dt" data-tab={state.tab.slug()}>
            { header(&config.site, &state, &dispatch, &on_export, crate::download::can_export(&state), &on_print, controls) }
            { data_notice(state.notice.as_deref()) }
            { export_notice(state.export_error.as_deref()) }
            { content }
            { footer(state.as_of, budget.map_or("the site's currency", |b| b.currency.code())) }
        </div>
    }
}
