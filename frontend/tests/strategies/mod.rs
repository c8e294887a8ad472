//! Generated reports of `shared`'s types for the decoders' property tests: every enum variant (drawn from
//! `shared`'s own `ALL`), every optional field both `Some` and `None`, numbers anywhere JSON carries them
//! exactly (integers within ±2^53, any finite float), any text. The values are built with struct literals,
//! so a field added to a report type fails to compile here until it is generated too.

use daytwo_shared::config::Reference;
use daytwo_shared::engagement::{Band, IndicatorScore};
use daytwo_shared::lifecycle::Stage;
use daytwo_shared::money::Currency;
use daytwo_shared::playbook::Action;
use daytwo_shared::report::{
    AccountDetail, AccountPage, AccountSummary, AcquisitionFigures, BandCounts, BudgetDeltas, BudgetFigures,
    BudgetReport, EngagementReport, FunnelConversion, FunnelReport, IndicatorAverage, LifecycleReport, Period,
    RetentionFigures, Side, StageCounts, Verdict, VerdictKind, WhatIf,
};
use daytwo_shared::spend::{CampaignSpend, ChannelSpend};
use daytwo_shared::time::Day;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;

/// The largest integer a JavaScript number holds exactly: the API's integers stay within it.
const MAX_SAFE: i64 = (1 << 53) - 1;

fn money() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0), -1_000_000_000i64..1_000_000_000, -MAX_SAFE..=MAX_SAFE]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1_000, 0..=MAX_SAFE as u64]
}

fn size() -> impl Strategy<Value = usize> {
    count().prop_map(|n| n as usize)
}

/// Any finite float, both signs, subnormals and zeros included.
fn float() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NORMAL, SUBNORMAL, ZERO};
    prop_oneof![0.0f64..1.0, NORMAL | SUBNORMAL | ZERO]
}

fn ratio() -> impl Strategy<Value = Option<f64>> {
    of(float())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z_]{1,12}", any::<String>()]
}

fn day() -> impl Strategy<Value = Day> {
    let first = Day::from_ymd(1, 1, 1).map_or(0, |d| d.0);
    let last = Day::from_ymd(9999, 12, 31).map_or(0, |d| d.0);
    (first..=last).prop_map(Day)
}

fn currency() -> impl Strategy<Value = Currency> {
    "[A-Z]{3}".prop_map(|code| Currency::parse(&code).expect("three letters are a currency"))
}

prop_compose! {
    fn period()(from in day(), to in day()) -> Period {
        Period { from, to }
    }
}

prop_compose! {
    fn acquisition()(
        spend_minor in money(), share in ratio(), new_customers in count(), cac_minor in of(money()),
        revenue_minor in money(), revenue_share in ratio(), return_per_dollar in ratio(),
    ) -> AcquisitionFigures {
        AcquisitionFigures {
            spend_minor, share, new_customers, cac_minor, revenue_minor, revenue_share, return_per_dollar,
        }
    }
}

prop_compose! {
    fn retention()(
        spend_minor in money(), share in ratio(), customers_at_start in count(), retained in count(),
        retention_rate in ratio(), cost_per_retained_minor in of(money()), revenue_minor in money(),
        revenue_share in ratio(), return_per_dollar in ratio(),
    ) -> RetentionFigures {
        RetentionFigures {
            spend_minor, share, customers_at_start, retained, retention_rate, cost_per_retained_minor,
            revenue_minor, revenue_share, return_per_dollar,
        }
    }
}

prop_compose! {
    pub fn funnel()(
        period in period().boxed(), awareness in count(), consideration in count(), lead in count(),
        purchase in count(),
        (awareness_to_consideration, consideration_to_lead, lead_to_purchase, overall)
            in (ratio(), ratio(), ratio(), ratio()),
    ) -> FunnelReport {
        let conversion =
            FunnelConversion { awareness_to_consideration, consideration_to_lead, lead_to_purchase, overall };
        FunnelReport { period, awareness, consideration, lead, purchase, conversion }
    }
}

prop_compose! {
    fn campaign()(
        campaign in text(), acquisition_minor in money(), retention_minor in money(), total_minor in money(),
    ) -> CampaignSpend {
        CampaignSpend { campaign, acquisition_minor, retention_minor, total_minor }
    }
}

prop_compose! {
    fn channel()(
        channel in text(), acquisition_minor in money(), retention_minor in money(), total_minor in money(),
        campaigns in vec(campaign().boxed(), 0..3),
    ) -> ChannelSpend {
        ChannelSpend { channel, acquisition_minor, retention_minor, total_minor, campaigns }
    }
}

prop_compose! {
    fn figures()(
        period in period().boxed(), acquisition in acquisition().boxed(), retention in retention().boxed(),
        total_spend_minor in money(), total_revenue_minor in money(), ltv_minor in of(money()),
        ltv_to_cac in ratio(), funnel in funnel().boxed(), channels in vec(channel().boxed(), 0..3),
        public_key_revenue_minor in money(),
    ) -> BudgetFigures {
        BudgetFigures {
            period, acquisition, retention, total_spend_minor, total_revenue_minor, ltv_minor, ltv_to_cac,
            funnel, channels, public_key_revenue_minor,
        }
    }
}

prop_compose! {
    fn what_if()(
        from_purpose in select(&Side::ALL[..]), to_purpose in select(&Side::ALL[..]), moved_minor in money(),
        position_bp in any::<i32>(), moved_pct_of_total in ratio(),
        (acquisition_spend_minor, retention_spend_minor, acquisition_share) in (money(), money(), ratio()),
        (acquisition_revenue_minor, retention_revenue_minor, revenue_delta_minor)
            in (of(money()), of(money()), of(money())),
        new_revenue_share in ratio(), verdict_kind in select(&VerdictKind::ALL[..]),
    ) -> WhatIf {
        WhatIf {
            from_purpose, to_purpose, moved_minor, position_bp, moved_pct_of_total, acquisition_spend_minor,
            retention_spend_minor, acquisition_share, acquisition_revenue_minor, retention_revenue_minor,
            revenue_delta_minor, new_revenue_share, verdict_kind,
        }
    }
}

prop_compose! {
    fn reference()(
        existing_customer_purchase_probability in (float(), float()).prop_map(|(a, b)| [a, b]),
        prospect_purchase_probability in (float(), float()).prop_map(|(a, b)| [a, b]),
        source in text(),
    ) -> Reference {
        Reference { existing_customer_purchase_probability, prospect_purchase_probability, source }
    }
}

prop_compose! {
    fn verdict()(
        kind in select(&VerdictKind::ALL[..]), message in text(), acquisition_spend_share in ratio(),
        new_revenue_share in ratio(), difference_points in ratio(), tolerance_points in float(),
        what_if in what_if().boxed(), reference in reference().boxed(),
    ) -> Verdict {
        Verdict {
            kind, message, acquisition_spend_share, new_revenue_share, difference_points, tolerance_points,
            what_if, reference,
        }
    }
}

prop_compose! {
    fn deltas()(
        (acquisition_spend_minor, retention_spend_minor, acquisition_share) in (money(), money(), ratio()),
        (new_customers, cac_minor, retention_rate) in (money(), of(money()), ratio()),
        (revenue_new_minor, revenue_existing_minor, total_revenue_minor) in (money(), money(), money()),
        (ltv_minor, ltv_to_cac) in (of(money()), ratio()),
        (customers_at_start, retained, cost_per_retained_minor) in (money(), money(), of(money())),
        (acquisition_return_per_dollar, retention_return_per_dollar) in (ratio(), ratio()),
    ) -> BudgetDeltas {
        BudgetDeltas {
            acquisition_spend_minor, retention_spend_minor, acquisition_share, new_customers, cac_minor,
            retention_rate, revenue_new_minor, revenue_existing_minor, total_revenue_minor, ltv_minor,
            ltv_to_cac, customers_at_start, retained, cost_per_retained_minor, acquisition_return_per_dollar,
            retention_return_per_dollar,
        }
    }
}

prop_compose! {
    pub fn budget()(
        currency in currency(), current in figures().boxed(), verdict in verdict().boxed(), previous in figures().boxed(),
        deltas in deltas().boxed(), public_key_revenue_counted in any::<bool>(),
    ) -> BudgetReport {
        BudgetReport { currency, current, verdict, previous, deltas, public_key_revenue_counted }
    }
}

prop_compose! {
    pub fn lifecycle()(
        as_of in day(),
        (prospect, lead, new_customer, active, at_risk, lapsed)
            in (count(), count(), count(), count(), count(), count()),
        reactivated in count(), advocates in count(), total in count(),
    ) -> LifecycleReport {
        let stages = StageCounts { prospect, lead, new_customer, active, at_risk, lapsed };
        LifecycleReport { as_of, stages, reactivated, advocates, total }
    }
}

prop_compose! {
    fn indicator_average()(
        id in text(), name in text(), weight in float(), average_normalised in ratio(), measured in count(),
    ) -> IndicatorAverage {
        IndicatorAverage { id, name, weight, average_normalised, measured }
    }
}

prop_compose! {
    pub fn engagement()(
        as_of in day(), customers in count(),
        (engaged, neutral, disengaged) in (count(), count(), count()),
        histogram in proptest::array::uniform10(count()), average_score in ratio(),
        indicators in vec(indicator_average().boxed(), 0..4),
    ) -> EngagementReport {
        let bands = BandCounts { engaged, neutral, disengaged };
        EngagementReport { as_of, customers, bands, histogram, average_score, indicators }
    }
}

prop_compose! {
    fn action()(id in text(), title in text(), channel in text(), why in text()) -> Action {
        Action { id, title, channel, why }
    }
}

prop_compose! {
    fn summary()(
        (id, kind, name) in (text(), text(), of(text())),
        (stage, reactivated, advocate) in (select(&Stage::ALL[..]), any::<bool>(), any::<bool>()),
        (score, band, trend) in (of(any::<u8>()), of(select(&Band::ALL[..])), of(any::<i16>())),
        (first_seen, last_seen, first_purchase, last_purchase) in (day(), of(day()), of(day()), of(day())),
        revenue_minor in money(), pulling_down in vec(text(), 0..3), actions in vec(action().boxed(), 0..3),
    ) -> AccountSummary {
        AccountSummary {
            id, kind, name, stage, reactivated, advocate, score, band, trend, first_seen, last_seen,
            first_purchase, last_purchase, revenue_minor, pulling_down, actions,
        }
    }
}

prop_compose! {
    pub fn page()(
        as_of in day(), total in size(), accounts in vec(summary().boxed(), 0..4), next_cursor in of(text()),
    ) -> AccountPage {
        AccountPage { as_of, total, accounts, next_cursor }
    }
}

prop_compose! {
    fn indicator_score()(
        id in text(), name in text(), raw in ratio(), normalised in ratio(), weight in float(),
        contribution in float(), shortfall in float(),
    ) -> IndicatorScore {
        IndicatorScore { id, name, raw, normalised, weight, contribution, shortfall }
    }
}

prop_compose! {
    pub fn detail()(
        summary in summary().boxed(), as_of in day(), breakdown in vec(indicator_score().boxed(), 0..4),
        identities in size(), modules in vec(text(), 0..3), activity_days_in_window in size(),
    ) -> AccountDetail {
        AccountDetail { summary, as_of, breakdown, identities, modules, activity_days_in_window }
    }
}
