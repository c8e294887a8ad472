//! CSV export of tabular reports, safe to open in a spreadsheet.
//!
//! A text cell that begins with `=`, `+`, `-`, `@`, tab or carriage return would be read as a formula by
//! Excel and friends (CSV injection); such cells get a leading apostrophe. Numbers are written as numbers.

use crate::lifecycle::Stage;
use crate::report::{
    AccountPage, BudgetFigures, BudgetReport, EngagementReport, FunnelReport, LifecycleReport, WhatIf,
};

/// A cell: text is neutralised, numbers are not (a negative number is data, not a formula).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(Option<f64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Cell {
        Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        Cell::Float(v)
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Cell {
        v.map_or(Cell::Float(None), Cell::Int)
    }
}

/// Whether a spreadsheet would read `text` as a formula (its first character).
pub(crate) fn starts_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Neutralises a text cell against formula injection.
pub fn neutralise(text: &str) -> String {
    if starts_like_formula(text) { format!("'{text}") } else { text.to_owned() }
}

fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The CSV writer of every table the product exports (the Worker's `format=csv`, the CLI's `--csv`, and
/// through the API the widget's downloads); the free functions below ([`table`], [`budget_csv`], …) are its.
/// Floats are written as `f64`'s `Display` writes them: the shortest text that reads back as the same number,
/// never with an exponent.
#[derive(Clone, Copy, Debug)]
struct Csv;

impl Csv {
    fn render(&self, cell: &Cell) -> String {
        match cell {
            Cell::Text(t) => quote(&neutralise(t)),
            Cell::Int(v) => v.to_string(),
            Cell::Float(Some(v)) if v.is_finite() => v.to_string(),
            Cell::Float(_) => String::new(),
        }
    }

    /// Writes a header and rows as RFC 4180 CSV (CRLF line ends).
    pub fn table(&self, header: &[&str], rows: &[Vec<Cell>]) -> String {
        let mut out = header.iter().map(|h| quote(&neutralise(h))).collect::<Vec<_>>().join(",");
        out.push_str("\r\n");
        for row in rows {
            out.push_str(&row.iter().map(|c| self.render(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }

    pub fn lifecycle(&self, r: &LifecycleReport) -> String {
        let mut rows: Vec<Vec<Cell>> =
            Stage::ALL.iter().map(|s| vec![s.as_str().into(), r.stages.get(*s).into()]).collect();
        rows.push(vec!["reactivated".into(), r.reactivated.into()]);
        rows.push(vec!["advocates".into(), r.advocates.into()]);
        self.table(&["stage", "accounts"], &rows)
    }

    pub fn funnel(&self, r: &FunnelReport) -> String {
        let c = &r.conversion;
        let rows = vec![
            vec!["awareness".into(), r.awareness.into(), Cell::Float(None)],
            vec!["consideration".into(), r.consideration.into(), c.awareness_to_consideration.into()],
            vec!["lead".into(), r.lead.into(), c.consideration_to_lead.into()],
            vec!["purchase".into(), r.purchase.into(), c.lead_to_purchase.into()],
        ];
        self.table(&["step", "accounts", "conversion_from_previous"], &rows)
    }

    pub fn engagement(&self, r: &EngagementReport) -> String {
        let mut rows: Vec<Vec<Cell>> = vec![
            vec!["band".into(), "engaged".into(), r.bands.engaged.into()],
            vec!["band".into(), "neutral".into(), r.bands.neutral.into()],
            vec!["band".into(), "disengaged".into(), r.bands.disengaged.into()],
        ];
        for (i, n) in r.histogram.iter().enumerate() {
            let label = if i == 9 { "90-100".to_owned() } else { format!("{}-{}", i * 10, i * 10 + 9) };
            rows.push(vec!["score".into(), label.into(), (*n).into()]);
        }
        self.table(&["group", "bucket", "customers"], &rows)
    }

    /// The budget report's tabular part: one row per channel and campaign, plus totals.
    pub fn budget(&self, r: &BudgetReport) -> String {
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for ch in &r.current.channels {
            for c in &ch.campaigns {
                rows.push(vec![
                    ch.channel.clone().into(),
                    c.campaign.clone().into(),
                    c.acquisition_minor.into(),
                    c.retention_minor.into(),
                    c.total_minor.into(),
                ]);
            }
        }
        let a = &r.current.acquisition;
        let t = &r.current.retention;
        rows.push(vec![
            "total".into(),
            "".into(),
            a.spend_minor.into(),
            t.spend_minor.into(),
            r.current.total_spend_minor.into(),
        ]);
        self.table(&["channel", "campaign", "acquisition_minor", "retention_minor", "total_minor"], &rows)
    }

    /// The budget report's comparison with the previous period, a metric per row (minor units and ratios, as
    /// the JSON has them), then the verdict and its what-if.
    pub fn comparison(&self, r: &BudgetReport) -> String {
        let (c, p, d) = (&r.current, &r.previous, &r.deltas);
        let (ca, pa, ct, pt) = (&c.acquisition, &p.acquisition, &c.retention, &p.retention);
        let row = |metric: &str, now: Cell, then: Cell, change: Cell| vec![metric.into(), now, then, change];
        let rows = vec![
            row(
                "acquisition_spend_minor",
                ca.spend_minor.into(),
                pa.spend_minor.into(),
                d.acquisition_spend_minor.into(),
            ),
            row("retention_spend_minor", ct.spend_minor.into(), pt.spend_minor.into(), d.retention_spend_minor.into()),
            row("acquisition_share", ca.share.into(), pa.share.into(), d.acquisition_share.into()),
            row("new_customers", ca.new_customers.into(), pa.new_customers.into(), d.new_customers.into()),
            row("cac_minor", ca.cac_minor.into(), pa.cac_minor.into(), d.cac_minor.into()),
            row(
                "customers_at_start",
                ct.customers_at_start.into(),
                pt.customers_at_start.into(),
                d.customers_at_start.into(),
            ),
            row("retained", ct.retained.into(), pt.retained.into(), d.retained.into()),
            row("retention_rate", ct.retention_rate.into(), pt.retention_rate.into(), d.retention_rate.into()),
            row(
                "cost_per_retained_minor",
                ct.cost_per_retained_minor.into(),
                pt.cost_per_retained_minor.into(),
                d.cost_per_retained_minor.into(),
            ),
            row("revenue_new_minor", ca.revenue_minor.into(), pa.revenue_minor.into(), d.revenue_new_minor.into()),
            row(
                "revenue_existing_minor",
                ct.revenue_minor.into(),
                pt.revenue_minor.into(),
                d.revenue_existing_minor.into(),
            ),
            row(
                "total_revenue_minor",
                c.total_revenue_minor.into(),
                p.total_revenue_minor.into(),
                d.total_revenue_minor.into(),
            ),
            row(
                "public_key_revenue_minor",
                c.public_key_revenue_minor.into(),
                p.public_key_revenue_minor.into(),
                Cell::Float(None),
            ),
            row(
                "acquisition_return_per_dollar",
                ca.return_per_dollar.into(),
                pa.return_per_dollar.into(),
                d.acquisition_return_per_dollar.into(),
            ),
            row(
                "retention_return_per_dollar",
                ct.return_per_dollar.into(),
                pt.return_per_dollar.into(),
                d.retention_return_per_dollar.into(),
            ),
            row("ltv_minor", c.ltv_minor.into(), p.ltv_minor.into(), d.ltv_minor.into()),
            row("ltv_to_cac", c.ltv_to_cac.into(), p.ltv_to_cac.into(), d.ltv_to_cac.into()),
        ];
        let v = &r.verdict;
        let mut out = self.table(&["metric", "this_period", "previous_period", "change"], &rows);
        out.push_str("\r\n");
        out.push_str(&self.table(
            &["verdict", "message", "what_if_position_bp", "what_if_moved_minor", "what_if_verdict"],
            &[vec![
                v.kind.as_str().into(),
                v.message.clone().into(),
                i64::from(v.what_if.position_bp).into(),
                v.what_if.signed_moved_minor().into(),
                v.what_if.verdict_kind.as_str().into(),
            ]],
        ));
        out
    }

    /// A what-if beside the figures it starts from: each figure now and after the move.
    pub fn what_if(&self, now: &BudgetFigures, now_verdict: crate::report::VerdictKind, w: &WhatIf) -> String {
        let (a, r) = (&now.acquisition, &now.retention);
        let rows: Vec<Vec<Cell>> = vec![
            vec!["position_bp".into(), Cell::Int(0), i64::from(w.position_bp).into()],
            vec!["moved_minor".into(), Cell::Int(0), w.signed_moved_minor().into()],
            vec!["acquisition_spend_minor".into(), a.spend_minor.into(), w.acquisition_spend_minor.into()],
            vec!["retention_spend_minor".into(), r.spend_minor.into(), w.retention_spend_minor.into()],
            vec!["acquisition_share".into(), a.share.into(), w.acquisition_share.into()],
            vec!["revenue_new_minor".into(), a.revenue_minor.into(), w.acquisition_revenue_minor.into()],
            vec!["revenue_existing_minor".into(), r.revenue_minor.into(), w.retention_revenue_minor.into()],
            vec!["new_revenue_share".into(), a.revenue_share.into(), w.new_revenue_share.into()],
            vec!["verdict".into(), now_verdict.as_str().into(), w.verdict_kind.as_str().into()],
        ];
        self.table(&["figure", "now", "after_move"], &rows)
    }

    pub fn accounts(&self, p: &AccountPage) -> String {
        let rows: Vec<Vec<Cell>> = p
            .accounts
            .iter()
            .map(|a| {
                vec![
                    a.id.clone().into(),
                    a.name.clone().unwrap_or_default().into(),
                    a.stage.as_str().into(),
                    a.score.map(i64::from).into(),
                    a.band.map_or("", |b| b.as_str()).into(),
                    a.trend.map(i64::from).into(),
                    a.revenue_minor.into(),
                    a.last_seen.map(|d| d.to_string()).unwrap_or_default().into(),
                    a.pulling_down.join(" ").into(),
                ]
            })
            .collect();
        self.table(
            &["id", "name", "stage", "score", "band", "trend", "revenue_minor", "last_seen", "pulling_down"],
            &rows,
        )
    }
}

/// Writes a header and rows as RFC 4180 CSV (CRLF line ends), floats as `Display` writes them.
pub fn table(header: &[&str], rows: &[Vec<Cell>]) -> String {
    Csv.table(header, rows)
}

pub fn lifecycle_csv(r: &LifecycleReport) -> String {
    Csv.lifecycle(r)
}

pub fn funnel_csv(r: &FunnelReport) -> String {
    Csv.funnel(r)
}

pub fn engagement_csv(r: &EngagementReport) -> String {
    Csv.engagement(r)
}

pub fn budget_csv(r: &BudgetReport) -> String {
    Csv.budget(r)
}

pub fn comparison_csv(r: &BudgetReport) -> String {
    Csv.comparison(r)
}

pub fn what_if_csv(now: &BudgetFigures, now_verdict: crate::report::VerdictKind, w: &WhatIf) -> String {
    Csv.what_if(now, now_verdict, w)
}

pub fn accounts_csv(p: &AccountPage) -> String {
    Csv.accounts(p)
}

/// Several tables in one file, a blank line between them (a view that shows more than one).
pub fn sections(tables: &[String]) -> String {
    tables.join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (input, want) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(input), want, "{input:?}");
        }
        let csv = table(&["name", "n", "r"], &[vec!["=HYPERLINK(\"x\")".into(), Cell::Int(-5), Cell::Float(None)]]);
        assert_eq!(csv, "name,n,r\r\n\"'=HYPERLINK(\"\"x\"\")\",-5,\r\n");
    }

    /// Every integer metric's change is this period minus the previous one, read back from the CSV itself.
    #[test]
    fn comparison_rows_hold_both_periods_and_their_change() {
        use crate::config::Settings;
        use crate::money::Currency;
        use crate::report::{Period, budget_report};
        use crate::signals::Signal::{Purchase, Renewal};
        use crate::testkit::{day, history};
        let accounts = [
            history("g:a", &[("2026-02-01", &[Purchase], 1000)]),
            history("g:b", &[("2025-11-01", &[Purchase], 500), ("2026-02-01", &[Renewal], 9000)]),
        ];
        let csv = "from,to,channel,amount_minor,currency,purpose\n2025-10-01,2026-04-01,ads,9000,USD,acquisition\n";
        let ledger = crate::spend::parse_spend_csv(csv, &Currency::default()).unwrap();
        let p = Period { from: day("2026-01-01"), to: day("2026-04-01") };
        let r = budget_report(&accounts, &ledger, &Settings::default(), &Currency::default(), p);
        let text = comparison_csv(&r);
        let (table, verdict) = text.split_once("\r\n\r\n").unwrap();
        let mut metrics = 0;
        for line in table.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 4, "{line}");
            if let (Ok(now), Ok(then), Ok(change)) =
                (cells[1].parse::<i64>(), cells[2].parse::<i64>(), cells[3].parse::<i64>())
            {
                assert_eq!(change, now - then, "{line}");
                metrics += 1;
            }
        }
        assert!(metrics >= 8, "{table}");
        assert!(table.contains("\r\nnew_customers,1,1,0\r\n"), "{table}");
        assert!(verdict.starts_with("verdict,message,what_if_position_bp,what_if_moved_minor,what_if_verdict\r\n"));
        assert!(verdict.contains(r.verdict.kind.as_str()), "{verdict}");
        let w = crate::report::what_if_at(&r.current, 500, 15.0);
        let what_if = what_if_csv(&r.current, r.verdict.kind, &w);
        assert!(what_if.starts_with("figure,now,after_move\r\nposition_bp,0,500\r\n"), "{what_if}");
    }

    /// The wire names the exports (and the widget) use are serde's, for every variant.
    #[test]
    fn enum_names_are_serdes() {
        use crate::report::{Side, VerdictKind};
        for k in VerdictKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in [Side::Acquisition, Side::Retention] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
