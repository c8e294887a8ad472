//! The dashboard's state and the actions that change it (a yew `Reducible`, as in `function_todomvc`).
//!
//! Requests are started by effects in `app.rs` and report back through [`Action::Loaded`], tagged with the
//! generation they were started for: a response for an older period (or before a retry) is dropped.

use crate::services::api::ApiError;
use daytwo_shared::query::default_as_of;
use daytwo_shared::read_model::PeriodPreset;
use daytwo_shared::report::{
    AccountDetail, AccountPage, BasisPoints, BudgetReport, EngagementReport, LifecycleReport, Period,
};
use daytwo_shared::time::{Day, MS_PER_DAY};
use std::rc::Rc;
use yew::Reducible;

/// Accounts per page of the engagement table.
pub const PAGE: usize = 20;

/// The views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Lifecycle,
    Engagement,
    Spend,
    WhatIf,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Overview, Tab::Lifecycle, Tab::Engagement, Tab::Spend, Tab::WhatIf];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Lifecycle => "Lifecycle",
            Tab::Engagement => "Engagement",
            Tab::Spend => "Spend",
            Tab::WhatIf => "What-if",
        }
    }

    /// Used in element ids and export file names.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Lifecycle => "lifecycle",
            Tab::Engagement => "engagement",
            Tab::Spend => "spend",
            Tab::WhatIf => "what-if",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The period picker's choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Days(i32),
    /// The last full calendar quarter.
    LastQuarter,
    Custom,
}

impl Preset {
    pub const ALL: [Preset; 5] =
        [Preset::Days(30), Preset::Days(90), Preset::Days(365), Preset::LastQuarter, Preset::Custom];

    pub fn key(self) -> String {
        match self {
            Preset::Days(n) => format!("d{n}"),
            Preset::LastQuarter => "quarter".into(),
            Preset::Custom => "custom".into(),
        }
    }

    pub fn from_key(k: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.key() == k)
    }

    /// The period this preset means on `today` (`None` for custom: the user picks it). The rule is
    /// `shared`'s, whose read model keeps these periods' figures, so the picker's choices answer fast.
    pub fn period(self, today: Day) -> Option<Period> {
        match self {
            Preset::Days(n) => Some(PeriodPreset::Days(n).period(today)),
            Preset::LastQuarter => Some(PeriodPreset::LastQuarter.period(today)),
            Preset::Custom => None,
        }
    }

    pub fn label(self, today: Day) -> String {
        match self {
            Preset::Days(n) => format!("Last {n} days"),
            Preset::LastQuarter => match self.period(today) {
                Some(p) => {
                    let (y, m, _) = p.from.ymd();
                    format!("Last quarter (Q{} {y})", (m - 1) / 3 + 1)
                }
                None => "Last quarter".into(),
            },
            Preset::Custom => "Custom…".into(),
        }
    }
}

/// Today in UTC, from the browser's clock (the domain never reads a clock).
pub fn today() -> Day {
    Day((js_sys::Date::now() / MS_PER_DAY as f64).floor() as i32)
}

/// A value being loaded. `Ready` values compare by pointer, so re-renders stay cheap.
#[derive(Debug)]
pub enum Remote<T> {
    Loading,
    Ready(Rc<T>),
    Failed(ApiError),
}

impl<T> Clone for Remote<T> {
    fn clone(&self) -> Self {
        match self {
            Remote::Loading => Remote::Loading,
            Remote::Ready(v) => Remote::Ready(Rc::clone(v)),
            Remote::Failed(e) => Remote::Failed(e.clone()),
        }
    }
}

impl<T> PartialEq for Remote<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Remote::Loading, Remote::Loading) => true,
            (Remote::Ready(a), Remote::Ready(b)) => Rc::ptr_eq(a, b),
            (Remote::Failed(a), Remote::Failed(b)) => a == b,
            _ => false,
        }
    }
}

impl<T> Remote<T> {
    pub fn from_result(r: Result<T, ApiError>) -> Remote<T> {
        match r {
            Ok(v) => Remote::Ready(Rc::new(v)),
            Err(e) => Remote::Failed(e),
        }
    }

    pub fn ready(&self) -> Option<&Rc<T>> {
        match self {
            Remote::Ready(v) => Some(v),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Remote::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Details of accounts by id (a short list: a `Vec` keeps the wasm smaller than a map).
pub type Details = Vec<(String, Remote<AccountDetail>)>;

pub fn detail<'a>(details: &'a Details, id: &str) -> Option<&'a Remote<AccountDetail>> {
    details.iter().find(|(k, _)| k == id).map(|(_, v)| v)
}

fn set_detail(details: &mut Details, id: String, value: Remote<AccountDetail>, replace: bool) {
    match details.iter_mut().find(|(k, _)| *k == id) {
        Some(slot) if replace => slot.1 = value,
        Some(_) => {}
        None => details.push((id, value)),
    }
}

/// A loaded report, for [`Action::Loaded`].
#[derive(Debug)]
pub enum Payload {
    /// Boxed: a budget report is large, the other payloads small.
    Budget(Box<Result<BudgetReport, ApiError>>),
    Lifecycle(Result<LifecycleReport, ApiError>),
    Engagement(Result<EngagementReport, ApiError>),
    /// A page of accounts; `append` for "show more".
    Accounts {
        stage: &'static str,
        result: Result<AccountPage, ApiError>,
        append: bool,
    },
    /// Boxed too: a detail is the largest of the rest (on a 64-bit target, where native tests build it).
    Detail(String, Box<Result<AccountDetail, ApiError>>),
}

#[derive(Debug)]
pub enum Action {
    SelectTab(Tab),
    /// A preset, or a custom period.
    SetPeriod(Preset, Period),
    /// Reloads everything (the Retry button).
    Retry,
    Loaded(u32, Payload),
    /// A report of this generation came with a `data_status` notice (incomplete figures, failing rollup).
    Notice(u32, String),
    /// Which stage the engagement table lists.
    SetAccountStage(&'static str),
    /// "Show more" started: the page is being extended.
    LoadingMore,
    OpenAccount(String),
    CloseAccount,
    /// The custom period editor opened (`true`), or a preset chosen that needs no editor.
    EditCustom(bool),
    /// The custom period entered is not a valid range.
    CustomInvalid,
    /// The what-if slider, in whole percent of total spend (positive: acquisition → retention).
    SetMove(BasisPoints),
    /// A CSV export ended: `None` when its file was offered, else why not.
    Exported(Option<String>),
}

/// Stages the account table can list: (stage, heading, what an empty list means).
pub const ACCOUNT_STAGES: [(&str, &str, &str); 4] = [
    ("at_risk", "At-risk accounts", "No active customer has dropped into the Disengaged band."),
    ("new_customer", "New customers", "No account made its first purchase recently."),
    ("active", "Active customers", "No active customer on this day."),
    ("lapsed", "Lapsed customers", "No customer has lapsed."),
];

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub tab: Tab,
    pub today: Day,
    pub preset: Preset,
    pub period: Period,
    /// Day the stage and score views are evaluated at: the period's last day (or today, if earlier).
    pub as_of: Day,
    /// Bumped by every new period and by Retry; results of older generations are dropped.
    pub generation: u32,
    pub budget: Remote<BudgetReport>,
    pub lifecycle: Remote<LifecycleReport>,
    pub engagement: Remote<EngagementReport>,
    pub account_stage: &'static str,
    pub accounts: Remote<AccountPage>,
    pub loading_more: bool,
    /// Details (breakdown and playbook actions) of the listed accounts, by id.
    pub details: Details,
    pub open_account: Option<String>,
    /// The what-if slider's position: basis points of total spend, positive from acquisition to retention.
    pub moved_bp: BasisPoints,
    pub custom_invalid: bool,
    /// Shown above the figures while any report of this generation says its figures are incomplete.
    pub notice: Option<String>,
    /// Why the last CSV export failed, shown until an export succeeds.
    pub export_error: Option<String>,
}

impl State {
    pub fn new(today: Day) -> State {
        let preset = Preset::Days(90);
        let period = preset.period(today).unwrap_or(Period { from: today.plus(-89), to: today.plus(1) });
        State {
            tab: Tab::Overview,
            today,
            preset,
            period,
            as_of: default_as_of(period, today),
            generation: 1,
            budget: Remote::Loading,
            lifecycle: Remote::Loading,
            engagement: Remote::Loading,
            account_stage: "at_risk",
            accounts: Remote::Loading,
            loading_more: false,
            details: Vec::new(),
            open_account: None,
            moved_bp: 0,
            custom_invalid: false,
            notice: None,
            export_error: None,
        }
    }

    /// The error that replaces the whole dashboard (no usable token), if any.
    pub fn fatal_error(&self) -> Option<&ApiError> {
        [self.budget.error(), self.lifecycle.error(), self.engagement.error(), self.accounts.error()]
            .into_iter()
            .flatten()
            .find(|e| e.is_fatal())
    }

    fn reset_loads(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.budget = Remote::Loading;
        self.lifecycle = Remote::Loading;
        self.engagement = Remote::Loading;
        self.accounts = Remote::Loading;
        self.loading_more = false;
        self.details.clear();
        self.open_account = None;
        self.notice = None;
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::SelectTab(tab) => s.tab = tab,
            Action::SetPeriod(preset, period) => {
                s.preset = preset;
                s.custom_invalid = false;
                if period != s.period {
                    s.period = period;
                    s.as_of = default_as_of(period, s.today);
                    s.moved_bp = 0;
                    s.reset_loads();
                }
            }
            Action::Retry => s.reset_loads(),
            Action::Notice(generation, _) if generation != s.generation || s.notice.is_some() => return self,
            Action::Notice(_, text) => s.notice = Some(text),
            Action::Loaded(generation, payload) => {
                if generation != s.generation {
                    return self;
                }
                match payload {
                    Payload::Budget(r) => s.budget = Remote::from_result(*r),
                    Payload::Lifecycle(r) => s.lifecycle = Remote::from_result(r),
                    Payload::Engagement(r) => s.engagement = Remote::from_result(r),
                    Payload::Accounts { stage, .. } if stage != s.account_stage => return self,
                    Payload::Accounts { result, append, .. } => {
                        s.loading_more = false;
                        match (append, result, s.accounts.ready()) {
                            (true, Ok(mut more), Some(old)) => {
                                let mut all = old.accounts.clone();
                                all.append(&mut more.accounts);
                                more.accounts = all;
                                s.accounts = Remote::Ready(Rc::new(more));
                            }
                            (true, Err(_), Some(_)) => {}
                            (_, result, _) => s.accounts = Remote::from_result(result),
                        }
                    }
                    Payload::Detail(id, r) => set_detail(&mut s.details, id, Remote::from_result(*r), true),
                }
            }
            Action::SetAccountStage(stage) => {
                if stage != s.account_stage {
                    s.account_stage = stage;
                    s.accounts = Remote::Loading;
                    s.loading_more = false;
                    s.open_account = None;
                }
            }
            Action::LoadingMore => s.loading_more = true,
            Action::OpenAccount(id) => {
                let loaded = matches!(detail(&s.details, &id), Some(Remote::Ready(_)));
                set_detail(&mut s.details, id.clone(), Remote::Loading, !loaded);
                s.open_account = Some(id);
            }
            Action::CloseAccount => s.open_account = None,
            Action::EditCustom(open) => {
                if open {
                    s.preset = Preset::Custom;
                }
                s.custom_invalid = false;
            }
            Action::CustomInvalid => s.custom_invalid = true,
            Action::SetMove(position) => s.moved_bp = position,
            Action::Exported(error) => s.export_error = error,
        }
        Rc::new(s)
    }
}
