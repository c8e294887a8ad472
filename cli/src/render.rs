//! Readable tables for `daytwo report` (JSON and CSV come from `shared::query::compute`, as in the Worker).

use daytwo_shared::lifecycle::Stage;
use daytwo_shared::money::{Currency, format_minor};
use daytwo_shared::report::{AccountPage, BudgetReport, EngagementReport, FunnelReport, LifecycleReport};
use std::fmt::Write;

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{:.1}%", x * 100.0))
}

fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.2}"))
}

fn money(v: Option<i64>, c: &Currency) -> String {
    v.map_or_else(|| "—".into(), |m| format!("{} {}", format_minor(m, c.exponent()), c))
}

fn rows(out: &mut String, rows: &[(&str, String)]) {
    let w = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<w$}  {v}");
    }
}

pub fn budget(r: &BudgetReport) -> String {
    let c = &r.currency;
    let (cur, prev) = (&r.current, &r.previous);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Budget split {} .. {} (previous {} .. {})",
        cur.period.from, cur.period.to, prev.period.from, prev.period.to
    );
    let _ = writeln!(s, "\nAcquisition");
    let a = &cur.acquisition;
    rows(
        &mut s,
        &[
            ("spend", format!("{} ({} of spend)", money(Some(a.spend_minor), c), pct(a.share))),
            ("new customers", format!("{} (previous {})", a.new_customers, prev.acquisition.new_customers)),
            ("CAC", money(a.cac_minor, c)),
            (
                "revenue from new customers",
                format!("{} ({} of revenue)", money(Some(a.revenue_minor), c), pct(a.revenue_share)),
            ),
            ("return per unit spent", ratio(a.return_per_dollar)),
        ],
    );
    let _ = writeln!(s, "\nRetention");
    let t = &cur.retention;
    rows(
        &mut s,
        &[
            ("spend", format!("{} ({} of spend)", money(Some(t.spend_minor), c), pct(t.share))),
            ("customers at start", t.customers_at_start.to_string()),
            (
                "retained",
                format!(
                    "{} ({} retention, previous {})",
                    t.retained,
                    pct(t.retention_rate),
                    pct(prev.retention.retention_rate)
                ),
            ),
            ("cost per retained customer", money(t.cost_per_retained_minor, c)),
            (
                "revenue from existing",
                format!("{} ({} of revenue)", money(Some(t.revenue_minor), c), pct(t.revenue_share)),
            ),
            ("return per unit spent", ratio(t.return_per_dollar)),
        ],
    );
    let _ = writeln!(s, "\nValue");
    rows(&mut s, &[("LTV", money(cur.ltv_minor, c)), ("LTV:CAC", ratio(cur.ltv_to_cac))]);
    let _ = writeln!(s, "\nVerdict: {}", r.verdict.message);
    let w = &r.verdict.what_if;
    let _ = writeln!(
        s,
        "What if {} moved from {:?} to {:?}: revenue change {} (projected verdict {:?}).",
        money(Some(w.moved_minor), c),
        w.from_purpose,
        w.to_purpose,
        money(w.revenue_delta_minor, c),
        w.verdict_kind
    );
    let rf = &r.verdict.reference;
    let _ = writeln!(
        s,
        "Context: an existing customer buys with {:.0}-{:.0}% probability, a prospect with {:.0}-{:.0}%.",
        rf.existing_customer_purchase_probability[0] * 100.0,
        rf.existing_customer_purchase_probability[1] * 100.0,
        rf.prospect_purchase_probability[0] * 100.0,
        rf.prospect_purchase_probability[1] * 100.0
    );
    let _ = writeln!(s, "\nChannels");
    for ch in &cur.channels {
        let _ = writeln!(
            s,
            "  {:<24} {:>18}  (acquisition {}, retention {})",
            ch.channel,
            money(Some(ch.total_minor), c),
            money(Some(ch.acquisition_minor), c),
            money(Some(ch.retention_minor), c)
        );
    }
    s.push('\n');
    s.push_str(&funnel(&cur.funnel));
    s
}

pub fn funnel(r: &FunnelReport) -> String {
    let c = &r.conversion;
    let mut s = format!("Funnel {} .. {}\n", r.period.from, r.period.to);
    rows(
        &mut s,
        &[
            ("awareness", r.awareness.to_string()),
            ("consideration", format!("{} ({})", r.consideration, pct(c.awareness_to_consideration))),
            ("lead", format!("{} ({})", r.lead, pct(c.consideration_to_lead))),
            ("purchase", format!("{} ({}; overall {})", r.purchase, pct(c.lead_to_purchase), pct(c.overall))),
        ],
    );
    s
}

pub fn lifecycle(r: &LifecycleReport) -> String {
    let mut s = format!("Lifecycle as of {} ({} accounts)\n", r.as_of, r.total);
    let mut table: Vec<(&str, String)> =
        Stage::ALL.iter().map(|st| (st.as_str(), r.stages.get(*st).to_string())).collect();
    table.push(("reactivated", r.reactivated.to_string()));
    table.push(("advocates", r.advocates.to_string()));
    rows(&mut s, &table);
    s
}

pub fn engagement(r: &EngagementReport) -> String {
    let mut s = format!(
        "Engagement of {} customers as of {} (average score {})\n",
        r.customers,
        r.as_of,
        ratio(r.average_score)
    );
    rows(
        &mut s,
        &[
            ("engaged", r.bands.engaged.to_string()),
            ("neutral", r.bands.neutral.to_string()),
            ("disengaged", r.bands.disengaged.to_string()),
        ],
    );
    let _ = writeln!(s, "\nIndicators (average normalised value)");
    for i in &r.indicators {
        let _ = writeln!(s, "  {:<28} {:>6}  weight {}", i.name, ratio(i.average_normalised), i.weight);
    }
    s
}

pub fn accounts(p: &AccountPage, c: &Currency) -> String {
    let mut s = format!("{} accounts as of {}, lowest score first\n", p.total, p.as_of);
    let _ = writeln!(
        s,
        "  {:<28} {:<13} {:>5} {:>6}  {:>18}  pulling down",
        "account", "stage", "score", "trend", "revenue"
    );
    for a in &p.accounts {
        let name = a.name.clone().unwrap_or_else(|| a.id.clone());
        let _ = writeln!(
            s,
            "  {:<28} {:<13} {:>5} {:>6}  {:>18}  {}",
            name.chars().take(28).collect::<String>(),
            a.stage.as_str(),
            a.score.map_or("—".into(), |x| x.to_string()),
            a.trend.map_or("—".into(), |x| format!("{x:+}")),
            money(Some(a.revenue_minor), c),
            a.pulling_down.join(", ")
        );
    }
    s
}
