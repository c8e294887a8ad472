//! Report requests: query-string parsing with defaults, and one entry point that computes any report.
//!
//! The Worker and the CLI both go through [`compute`], so the API and `daytwo report --json` agree by
//! construction. "Today" is a parameter: `to` defaults to tomorrow (today included), `from` to 90 days before.

use crate::config::Settings;
use crate::export;
use crate::money::Currency;
use crate::report::{self, AccountQuery, AccountSort, Period};
use crate::rollup::AccountHistory;
use crate::spend::SpendEntry;
use crate::time::Day;
use serde_json::Value;
use thiserror::Error;

/// Longest period a report may span (ten years).
pub const MAX_PERIOD_DAYS: i32 = 3660;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    Budget,
    Lifecycle,
    Funnel,
    Engagement,
    Accounts,
}

impl ReportKind {
    /// Any report by name, including `accounts` (the CLI's `daytwo report accounts`).
    pub fn from_name(s: &str) -> Option<ReportKind> {
        if s == "accounts" { Some(ReportKind::Accounts) } else { ReportKind::from_path(s) }
    }

    /// The reports under `/v1/sites/{site}/reports/{name}` (the account list has its own path).
    pub fn from_path(s: &str) -> Option<ReportKind> {
        Some(match s {
            "budget" => ReportKind::Budget,
            "lifecycle" => ReportKind::Lifecycle,
            "funnel" => ReportKind::Funnel,
            "engagement" => ReportKind::Engagement,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Csv,
}

/// A parsed report request.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportQuery {
    pub period: Period,
    pub as_of: Day,
    pub format: Format,
    pub accounts: AccountQuery,
}

/// A query parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    pub field: String,
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> QueryError {
    QueryError { field: field.to_owned(), message: message.into() }
}

/// Parses `from`, `to`, `as_of`, `format`, `stage`, `band`, `sort`, `limit`, `cursor`. Unknown parameters are
/// ignored (as caches and trackers add their own); a repeated known one is refused.
pub fn parse_query(pairs: &[(String, String)], today: Day) -> Result<ReportQuery, QueryError> {
    let get = |name: &str| -> Result<Option<&str>, QueryError> {
        let mut it = pairs.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.as_str());
        if it.next().is_some() {
            return Err(err(name, "given more than once"));
        }
        Ok(first)
    };
    let day = |name: &str, v: Option<&str>| -> Result<Option<Day>, QueryError> {
        v.map(|s| Day::parse(s).map_err(|_| err(name, "expected a date as YYYY-MM-DD"))).transpose()
    };
    let to = day("to", get("to")?)?.unwrap_or(today.plus(1));
    let from = day("from", get("from")?)?.unwrap_or(to.plus(-90));
    if from >= to {
        return Err(err("from", "must be before `to` (`to` is exclusive)"));
    }
    if to.days_since(from) > MAX_PERIOD_DAYS {
        return Err(err("from", format!("a period may span at most {MAX_PERIOD_DAYS} days")));
    }
    let as_of = day("as_of", get("as_of")?)?.unwrap_or(today);
    let format = match get("format")? {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(_) => return Err(err("format", "expected json or csv")),
    };
    let enum_param = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned()));
    let stage = enum_param(get("stage")?)
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|_| err("stage", "expected prospect, lead, new_customer, active, at_risk or lapsed"))
        })
        .transpose()?;
    let band = enum_param(get("band")?)
        .map(|v| serde_json::from_value(v).map_err(|_| err("band", "expected engaged, neutral or disengaged")))
        .transpose()?;
    let sort: AccountSort = enum_param(get("sort")?)
        .map(|v| {
            serde_json::from_value(v).map_err(|_| err("sort", "expected score, score_desc, revenue, last_seen or name"))
        })
        .transpose()?
        .unwrap_or_default();
    let limit = get("limit")?
        .map(|s| s.parse::<usize>().ok().filter(|n| (1..=report::MAX_PAGE).contains(n)))
        .map(|v| v.ok_or_else(|| err("limit", format!("expected 1..{}", report::MAX_PAGE))))
        .transpose()?;
    let cursor = get("cursor")?
        .map(|s| {
            s.parse::<usize>().map(|_| s.to_owned()).map_err(|_| err("cursor", "not a cursor from a previous page"))
        })
        .transpose()?;
    Ok(ReportQuery {
        period: Period { from, to },
        as_of,
        format,
        accounts: AccountQuery { stage, band, sort, limit, cursor },
    })
}

/// A computed report, in the requested format.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Json(Value),
    Csv(String),
}

/// Adds `data_status` to a JSON report (every report object carries it; CSV is left as it is, and the shell
/// says it in a header).
pub fn with_data_status(rendered: Rendered, status: &crate::data_status::DataStatus) -> Rendered {
    match rendered {
        Rendered::Json(Value::Object(mut o)) => {
            o.insert("data_status".into(), to_json(status));
            Rendered::Json(Value::Object(o))
        }
        other => other,
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A report being computed, one account at a time: the Worker streams a site's accounts from its database
/// through it (memory: one account, plus one summary per listed account), and [`compute`] folds a slice
/// through the same code, so both give the same figures by construction.
#[derive(Clone, Debug)]
pub struct ReportBuilder<'q> {
    settings: &'q Settings,
    query: &'q ReportQuery,
    tally: Tally,
}

#[derive(Clone, Debug)]
enum Tally {
    Budget { current: report::BudgetTally, previous: report::BudgetTally },
    Funnel(report::FunnelTally),
    Lifecycle(report::LifecycleTally),
    Engagement(report::EngagementTally),
    Accounts(report::AccountListTally),
}

impl<'q> ReportBuilder<'q> {
    pub fn new(kind: ReportKind, settings: &'q Settings, query: &'q ReportQuery) -> ReportBuilder<'q> {
        let (period, as_of) = (query.period, query.as_of);
        let tally = match kind {
            ReportKind::Budget => Tally::Budget {
                current: report::BudgetTally::new(period),
                previous: report::BudgetTally::new(period.previous()),
            },
            ReportKind::Funnel => Tally::Funnel(report::FunnelTally::new(period)),
            ReportKind::Lifecycle => Tally::Lifecycle(report::LifecycleTally::new(as_of)),
            ReportKind::Engagement => Tally::Engagement(report::EngagementTally::new(as_of)),
            ReportKind::Accounts => Tally::Accounts(report::AccountListTally::new(as_of, &query.accounts)),
        };
        ReportBuilder { settings, query, tally }
    }

    /// Counts one resolved account.
    pub fn add(&mut self, h: &AccountHistory) {
        let (settings, as_of) = (self.settings, self.query.as_of);
        match &mut self.tally {
            Tally::Budget { current, previous } => {
                current.add(h, settings);
                previous.add(h, settings);
            }
            Tally::Funnel(t) => t.add(h, settings),
            Tally::Lifecycle(t) => {
                if let Some(e) = report::evaluate_one(h, settings, as_of) {
                    t.add(&e);
                }
            }
            Tally::Engagement(t) => {
                if let Some(e) = report::evaluate_one(h, settings, as_of) {
                    t.add(&e);
                }
            }
            Tally::Accounts(t) => {
                if let Some(e) = report::evaluate_one(h, settings, as_of) {
                    t.add(&e, settings);
                }
            }
        }
    }

    /// The report, in the requested format.
    pub fn finish(self, ledger: &[SpendEntry], currency: &Currency) -> Rendered {
        let csv = self.query.format == Format::Csv;
        let settings = self.settings;
        match self.tally {
            Tally::Budget { current, previous } => {
                let r = report::budget_report_of(current.finish(ledger), previous.finish(ledger), settings, currency);
                if csv { Rendered::Csv(export::budget_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            Tally::Funnel(t) => {
                let r = t.finish();
                if csv { Rendered::Csv(export::funnel_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            Tally::Lifecycle(t) => {
                let r = t.finish();
                if csv { Rendered::Csv(export::lifecycle_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            Tally::Engagement(t) => {
                let r = t.finish(settings);
                if csv { Rendered::Csv(export::engagement_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            Tally::Accounts(t) => {
                let page = t.finish();
                if csv { Rendered::Csv(export::accounts_csv(&page)) } else { Rendered::Json(to_json(&page)) }
            }
        }
    }
}

/// Computes a report over resolved accounts and the spend ledger.
pub fn compute(
    kind: ReportKind,
    accounts: &[AccountHistory],
    ledger: &[SpendEntry],
    settings: &Settings,
    currency: &Currency,
    q: &ReportQuery,
) -> Rendered {
    let mut builder = ReportBuilder::new(kind, settings, q);
    for h in accounts {
        builder.add(h);
    }
    builder.finish(ledger, currency)
}

/// The account keys an id given in a URL may mean, in the order they are tried: the key itself (`g:acme`),
/// then the bare id (`acme`) as an account, a user, a visitor.
pub fn account_key_candidates(id: &str) -> [String; 4] {
    [id.to_owned(), format!("g:{id}"), format!("u:{id}"), format!("a:{id}")]
}

/// Finds an account by its key or bare id ([`account_key_candidates`]).
pub fn find_account<'a>(accounts: &'a [AccountHistory], id: &str) -> Option<&'a AccountHistory> {
    account_key_candidates(id).iter().find_map(|k| accounts.iter().find(|a| a.key == *k))
}

/// One account in full on `as_of`, or `None` if unknown (or not yet seen then).
pub fn account_detail(accounts: &[AccountHistory], settings: &Settings, id: &str, as_of: Day) -> Option<Value> {
    account_detail_of(find_account(accounts, id)?, settings, as_of)
}

/// The detail of one resolved account on `as_of`, or `None` if it was not seen yet then.
pub fn account_detail_of(h: &AccountHistory, settings: &Settings, as_of: Day) -> Option<Value> {
    report::evaluate_one(h, settings, as_of).map(|e| to_json(&report::detail(&e, settings, as_of)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<ReportQuery, QueryError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        parse_query(&pairs, Day::parse("2026-10-10").unwrap_or_default())
    }

    #[test]
    fn defaults_and_errors() {
        let d = q(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.period.from.to_string(), d.period.to.to_string()), ("2026-07-13".into(), "2026-10-11".into()));
        assert_eq!(d.as_of.to_string(), "2026-10-10");
        assert_eq!(d.format, Format::Json);
        let ok = q(&[
            ("from", "2026-01-01"),
            ("to", "2026-02-01"),
            ("format", "csv"),
            ("stage", "at_risk"),
            ("limit", "5"),
            ("x", "y"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.period.days(), 31);
        assert_eq!(ok.accounts.stage, Some(crate::lifecycle::Stage::AtRisk));
        for (pairs, field) in [
            (vec![("from", "2026-13-01")], "from"),
            (vec![("to", "tomorrow")], "to"),
            (vec![("from", "2026-02-01"), ("to", "2026-02-01")], "from"),
            (vec![("from", "2000-01-01"), ("to", "2026-02-01")], "from"),
            (vec![("as_of", "x")], "as_of"),
            (vec![("format", "xml")], "format"),
            (vec![("stage", "vip")], "stage"),
            (vec![("band", "hot")], "band"),
            (vec![("sort", "random")], "sort"),
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "9999")], "limit"),
            (vec![("cursor", "abc")], "cursor"),
            (vec![("from", "2026-01-01"), ("from", "2026-01-02")], "from"),
        ] {
            assert_eq!(q(&pairs).map_err(|e| e.field), Err(field.to_owned()), "{pairs:?}");
        }
    }
}
