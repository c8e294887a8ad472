//! CSV export of tabular reports, safe to open in a spreadsheet.
//!
//! A text cell that begins with `=`, `+`, `-`, `@`, tab or carriage return would be read as a formula by
//! Excel and friends (CSV injection); such cells get a leading apostrophe. Numbers are written as numbers.

use crate::lifecycle::Stage;
use crate::report::{AccountPage, BudgetReport, EngagementReport, FunnelReport, LifecycleReport};

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

/// Neutralises a text cell against formula injection.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

fn render(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => quote(&neutralise(t)),
        Cell::Int(v) => v.to_string(),
        Cell::Float(Some(v)) if v.is_finite() => v.to_string(),
        Cell::Float(_) => String::new(),
    }
}

/// Writes a header and rows as RFC 4180 CSV (CRLF line ends).
pub fn table(header: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = header.iter().map(|h| quote(&neutralise(h))).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(render).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn lifecycle_csv(r: &LifecycleReport) -> String {
    let mut rows: Vec<Vec<Cell>> =
        Stage::ALL.iter().map(|s| vec![s.as_str().into(), r.stages.get(*s).into()]).collect();
    rows.push(vec!["reactivated".into(), r.reactivated.into()]);
    rows.push(vec!["advocates".into(), r.advocates.into()]);
    table(&["stage", "accounts"], &rows)
}

pub fn funnel_csv(r: &FunnelReport) -> String {
    let c = &r.conversion;
    let rows = vec![
        vec!["awareness".into(), r.awareness.into(), Cell::Float(None)],
        vec!["consideration".into(), r.consideration.into(), c.awareness_to_consideration.into()],
        vec!["lead".into(), r.lead.into(), c.consideration_to_lead.into()],
        vec!["purchase".into(), r.purchase.into(), c.lead_to_purchase.into()],
    ];
    table(&["step", "accounts", "conversion_from_previous"], &rows)
}

pub fn engagement_csv(r: &EngagementReport) -> String {
    let mut rows: Vec<Vec<Cell>> = vec![
        vec!["band".into(), "engaged".into(), r.bands.engaged.into()],
        vec!["band".into(), "neutral".into(), r.bands.neutral.into()],
        vec!["band".into(), "disengaged".into(), r.bands.disengaged.into()],
    ];
    for (i, n) in r.histogram.iter().enumerate() {
        let label = if i == 9 { "90-100".to_owned() } else { format!("{}-{}", i * 10, i * 10 + 9) };
        rows.push(vec!["score".into(), label.into(), (*n).into()]);
    }
    table(&["group", "bucket", "customers"], &rows)
}

/// The budget report's tabular part: one row per channel and campaign, plus totals.
pub fn budget_csv(r: &BudgetReport) -> String {
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
    table(&["channel", "campaign", "acquisition_minor", "retention_minor", "total_minor"], &rows)
}

pub fn accounts_csv(p: &AccountPage) -> String {
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
    table(&["id", "name", "stage", "score", "band", "trend", "revenue_minor", "last_seen", "pulling_down"], &rows)
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
}
