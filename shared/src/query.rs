//! Report requests: query-string parsing with defaults, and one entry point that computes any report.
//!
//! The Worker and the CLI both go through [`compute`], so the API and `daytwo report --json` agree by
//! construction. "Today" is a parameter: `to` defaults to tomorrow (today included), `from` to 90 days before.

use crate::config::Settings;
use crate::contribution::{AccountEntry, BudgetPart, EngagementPart, LifecyclePart, SiteTotals};
use crate::export;
use crate::identity::IdentityKey;
use crate::money::Currency;
use crate::report::{self, AccountQuery, AccountSort, BasisPoints, Period};
use crate::rollup::AccountHistory;
use crate::spend::SpendEntry;
use crate::time::Day;
use serde_json::Value;
use thiserror::Error;

/// Days a report covers when the request names no `from`.
pub const DEFAULT_PERIOD_DAYS: i32 = 90;

/// The period a report covers by default: the `DEFAULT_PERIOD_DAYS` days up to and including `today`.
pub fn default_period(today: Day) -> Period {
    let to = today.plus(1);
    Period { from: to.plus(-DEFAULT_PERIOD_DAYS), to }
}

/// The period a request names, with the defaults the Worker, the CLI and the widget share: `to` is tomorrow
/// (today included), `from` is [`DEFAULT_PERIOD_DAYS`] before `to`.
pub fn period_of(from: Option<Day>, to: Option<Day>, today: Day) -> Period {
    let to = to.unwrap_or(default_period(today).to);
    Period { from: from.unwrap_or(to.plus(-DEFAULT_PERIOD_DAYS)), to }
}

/// The day stage and score views are evaluated at when a request names none: the period's last day, or
/// today while the period is still running (a day not lived yet has no stage). One rule for the Worker,
/// the CLI and the widget.
pub fn default_as_of(period: Period, today: Day) -> Day {
    period.last_day().min(today)
}

/// Longest period a report may span (ten years).
pub const MAX_PERIOD_DAYS: i32 = 3660;

/// The largest what-if move a request may name: all of the spend (10,000 basis points), either way.
pub const MAX_MOVE_BP: BasisPoints = 10_000;

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

/// Which table `reports/budget?format=csv` writes (`table=`): the files the widget's views download, so
/// each view's export is the API's own answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BudgetTable {
    /// Spend by channel and campaign, then the totals (the Spend view).
    #[default]
    Spend,
    /// Every figure against the previous period, then the verdict and its what-if (the Overview).
    Comparison,
    /// The figures now and after moving `move_bp` basis points of total spend, positive from acquisition to
    /// retention (the What-if view), clamped to what the period's spend allows as the view's slider is.
    WhatIf(BasisPoints),
}

/// A parsed report request.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportQuery {
    pub period: Period,
    pub as_of: Day,
    pub format: Format,
    pub accounts: AccountQuery,
    /// The budget report's CSV table (other reports have one table).
    pub table: BudgetTable,
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

/// Parses `from`, `to`, `as_of`, `format`, `table`, `move_bp`, `stage`, `band`, `sort`, `limit`, `cursor`.
/// Unknown parameters are ignored (as caches and trackers add their own); a repeated known one is refused.
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
    let Period { from, to } = period_of(day("from", get("from")?)?, day("to", get("to")?)?, today);
    if from >= to {
        return Err(err("from", "must be before `to` (`to` is exclusive)"));
    }
    if to.days_since(from) > MAX_PERIOD_DAYS {
        return Err(err("from", format!("a period may span at most {MAX_PERIOD_DAYS} days")));
    }
    let as_of = day("as_of", get("as_of")?)?.unwrap_or(default_as_of(Period { from, to }, today));
    let format = match get("format")? {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(_) => return Err(err("format", "expected json or csv")),
    };
    let move_bp = get("move_bp")?
        .map(|s| {
            s.parse::<BasisPoints>()
                .ok()
                .filter(|bp| (-MAX_MOVE_BP..=MAX_MOVE_BP).contains(bp))
                .ok_or_else(|| err("move_bp", format!("expected an integer from -{MAX_MOVE_BP} to {MAX_MOVE_BP}")))
        })
        .transpose()?;
    let table = match (get("table")?, move_bp) {
        (None | Some("spend"), None) => BudgetTable::Spend,
        (Some("comparison"), None) => BudgetTable::Comparison,
        (Some("what_if"), Some(bp)) => BudgetTable::WhatIf(bp),
        (Some("what_if"), None) => return Err(err("move_bp", "required with table=what_if")),
        (None | Some("spend" | "comparison"), Some(_)) => {
            return Err(err("move_bp", "applies to table=what_if only"));
        }
        (Some(_), _) => return Err(err("table", "expected spend, comparison or what_if")),
    };
    if table != BudgetTable::Spend && format != Format::Csv {
        return Err(err("table", "applies to format=csv"));
    }
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
        table,
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
/// through the same code, so both give the same figures by construction. A report can also start from a
/// read model's totals ([`ReportBuilder::from_totals`]) and be corrected by whole accounts
/// ([`ReportBuilder::add_entry`]): the sums are exact, so that gives the same figures too.
#[derive(Clone, Debug)]
pub struct ReportBuilder<'q> {
    kind: ReportKind,
    settings: &'q Settings,
    query: &'q ReportQuery,
    totals: SiteTotals,
    list: report::AccountListTally,
}

impl<'q> ReportBuilder<'q> {
    pub fn new(kind: ReportKind, settings: &'q Settings, query: &'q ReportQuery) -> ReportBuilder<'q> {
        ReportBuilder::from_totals(kind, settings, query, SiteTotals::default())
    }

    /// A report that starts from the sums of a read model's entries (entries of `query.as_of` and
    /// `query.period`: the caller checks they are).
    pub fn from_totals(
        kind: ReportKind,
        settings: &'q Settings,
        query: &'q ReportQuery,
        totals: SiteTotals,
    ) -> ReportBuilder<'q> {
        let list = report::AccountListTally::new(query.as_of, &query.accounts);
        ReportBuilder { kind, settings, query, totals, list }
    }

    /// Counts one resolved account (only what this kind of report needs is computed).
    pub fn add(&mut self, h: &AccountHistory) {
        if self.kind == ReportKind::Accounts {
            if let Some(e) = report::evaluate_one(h, self.settings, self.query.as_of) {
                self.list.add(&e, self.settings);
            }
        } else {
            self.add_weighted(h, 1);
        }
    }

    /// Counts `n` visitors whose history is `h` (a row of the site's visitor pool: `crate::visitors`) in every
    /// figure; the account list lists accounts, not pooled visitors, so it leaves them out.
    pub fn add_weighted(&mut self, h: &AccountHistory, n: i64) {
        let (settings, as_of, period) = (self.settings, self.query.as_of, self.query.period);
        let t = &mut self.totals;
        match self.kind {
            ReportKind::Budget => {
                t.current.add(&BudgetPart::of(h, settings, period), n);
                t.previous.add(&BudgetPart::of(h, settings, period.previous()), n);
            }
            ReportKind::Funnel => t.current.add(&BudgetPart::of(h, settings, period), n),
            ReportKind::Lifecycle => {
                if let Some(e) = report::evaluate_one(h, settings, as_of) {
                    t.lifecycle.add(&LifecyclePart::of(&e), n);
                }
            }
            ReportKind::Engagement => {
                if let Some(part) = report::evaluate_one(h, settings, as_of).as_ref().and_then(EngagementPart::of) {
                    t.engagement.add(&part, n);
                }
            }
            ReportKind::Accounts => {}
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) a read model's entry of one account.
    pub fn add_entry(&mut self, entry: &AccountEntry, sign: i64) {
        self.totals.add(entry, sign);
    }

    /// Accounts of the list counted without being listed here (a read model's rows past the page).
    pub fn add_unlisted(&mut self, n: usize) {
        self.list.add_unlisted(n);
    }

    /// The report, in the requested format.
    pub fn finish(self, ledger: &[SpendEntry], currency: &Currency) -> Rendered {
        let csv = self.query.format == Format::Csv;
        let (settings, q, t) = (self.settings, self.query, &self.totals);
        match self.kind {
            ReportKind::Budget => {
                let current = t.current.figures(q.period, ledger);
                let previous = t.previous.figures(q.period.previous(), ledger);
                let r = report::budget_report_of(current, previous, settings, currency);
                if !csv {
                    return Rendered::Json(to_json(&r));
                }
                Rendered::Csv(match q.table {
                    BudgetTable::Spend => export::budget_csv(&r),
                    BudgetTable::Comparison => export::comparison_csv(&r),
                    BudgetTable::WhatIf(position) => {
                        let w = report::what_if_at(&r.current, position, r.verdict.tolerance_points);
                        export::what_if_csv(&r.current, r.verdict.kind, &w)
                    }
                })
            }
            ReportKind::Funnel => {
                let r = t.current.funnel(q.period);
                if csv { Rendered::Csv(export::funnel_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            ReportKind::Lifecycle => {
                let r = t.lifecycle.report(q.as_of);
                if csv { Rendered::Csv(export::lifecycle_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            ReportKind::Engagement => {
                let r = t.engagement.report(settings, q.as_of);
                if csv { Rendered::Csv(export::engagement_csv(&r)) } else { Rendered::Json(to_json(&r)) }
            }
            ReportKind::Accounts => {
                let page = self.list.finish();
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
    [id.to_owned(), IdentityKey::account(id).into(), IdentityKey::user(id).into(), IdentityKey::visitor(id).into()]
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

    /// `reports/budget?format=csv&table=…` writes the export's comparison and what-if files of the same
    /// report, the what-if at the position the domain clamps to (as the widget's slider does).
    #[test]
    fn budget_tables_are_the_exports_of_the_report() {
        let currency = Currency::parse("USD").unwrap_or_else(|e| panic!("{e}"));
        let ledger = crate::spend::parse_spend_csv(
            "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct\n\
             a,2026-09-01,2026-09-30,search,brand,700000,USD,acquisition,\n\
             b,2026-09-01,2026-09-30,email,care,300000,USD,retention,\n",
            &currency,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let settings = Settings::default();
        let period = [("from", "2026-09-01"), ("to", "2026-10-01"), ("format", "csv")];
        let csv = |extra: &[(&str, &str)]| {
            let query = q(&[&period[..], extra].concat()).unwrap_or_else(|e| panic!("{e}"));
            match compute(ReportKind::Budget, &[], &ledger, &settings, &currency, &query) {
                Rendered::Csv(text) => text,
                Rendered::Json(v) => panic!("csv asked, got {v}"),
            }
        };
        let period = Period {
            from: Day::parse("2026-09-01").unwrap_or_default(),
            to: Day::parse("2026-10-01").unwrap_or_default(),
        };
        let r = report::budget_report(&[], &ledger, &settings, &currency, period);
        assert_eq!(csv(&[]), export::budget_csv(&r));
        assert_eq!(csv(&[("table", "spend")]), export::budget_csv(&r));
        assert_eq!(csv(&[("table", "comparison")]), export::comparison_csv(&r));
        let (lo, hi) = report::what_if_bounds(&r.current);
        assert!(lo < 0 && hi > 0, "both sides have spend to move: {lo}..{hi}");
        for (asked, at) in [(2500, 2500), (-1000, -1000), (10_000, hi), (-10_000, lo)] {
            let w = report::what_if_at(&r.current, at, r.verdict.tolerance_points);
            let text = csv(&[("table", "what_if"), ("move_bp", &asked.to_string())]);
            assert_eq!(text, export::what_if_csv(&r.current, r.verdict.kind, &w), "move_bp={asked}");
            assert!(text.contains(&format!("position_bp,0,{at}\r\n")), "{text}");
        }
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
        assert_eq!(ok.table, BudgetTable::Spend);
        for (pairs, table) in [
            (vec![("format", "csv"), ("table", "spend")], BudgetTable::Spend),
            (vec![("format", "csv"), ("table", "comparison")], BudgetTable::Comparison),
            (vec![("format", "csv"), ("table", "what_if"), ("move_bp", "-10000")], BudgetTable::WhatIf(-10_000)),
            (vec![("format", "csv"), ("table", "what_if"), ("move_bp", "250")], BudgetTable::WhatIf(250)),
        ] {
            assert_eq!(q(&pairs).map(|q| q.table), Ok(table), "{pairs:?}");
        }
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
            (vec![("format", "csv"), ("table", "verdict")], "table"),
            (vec![("table", "comparison")], "table"),
            (vec![("format", "json"), ("table", "what_if"), ("move_bp", "100")], "table"),
            (vec![("format", "csv"), ("table", "what_if")], "move_bp"),
            (vec![("format", "csv"), ("table", "comparison"), ("move_bp", "100")], "move_bp"),
            (vec![("format", "csv"), ("move_bp", "100")], "move_bp"),
            (vec![("format", "csv"), ("table", "what_if"), ("move_bp", "10001")], "move_bp"),
            (vec![("format", "csv"), ("table", "what_if"), ("move_bp", "1.5")], "move_bp"),
        ] {
            assert_eq!(q(&pairs).map_err(|e| e.field), Err(field.to_owned()), "{pairs:?}");
        }
    }
}
