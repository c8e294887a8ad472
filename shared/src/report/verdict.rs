//! The verdict ("are you overweight in acquisition?") and the what-if of moving spend between the two
//! sides of the split.

use super::*;

use crate::config::Settings;
use serde::{Deserialize, Serialize};

/// What moving spend from one purpose to the other would do, at the measured return per dollar of each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    pub from_purpose: Side,
    pub to_purpose: Side,
    pub moved_minor: i64,
    /// Where the move puts the slider: basis points of total spend, positive from acquisition to retention
    /// ([`what_if_at`] of this position is this what-if).
    pub position_bp: BasisPoints,
    pub moved_pct_of_total: Option<f64>,
    pub acquisition_spend_minor: i64,
    pub retention_spend_minor: i64,
    pub acquisition_share: Option<f64>,
    /// Projected revenue of each side; `None` where that side had no spend to measure a return on.
    pub acquisition_revenue_minor: Option<i64>,
    pub retention_revenue_minor: Option<i64>,
    pub revenue_delta_minor: Option<i64>,
    pub new_revenue_share: Option<f64>,
    /// The verdict the projected figures would give.
    pub verdict_kind: VerdictKind,
}

/// One side of the budget split, where a what-if moves spend from or to. (What a spend entry was for, which
/// may be both, is [`crate::spend::Purpose`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Acquisition,
    Retention,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    OverweightAcquisition,
    OverweightRetention,
    Balanced,
    /// No spend or no revenue in the period: nothing to weigh.
    InsufficientData,
}

impl Side {
    pub const ALL: [Side; 2] = [Side::Acquisition, Side::Retention];

    /// The wire name (`acquisition`, `retention`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Acquisition => "acquisition",
            Side::Retention => "retention",
        }
    }
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 4] = [
        VerdictKind::OverweightAcquisition,
        VerdictKind::OverweightRetention,
        VerdictKind::Balanced,
        VerdictKind::InsufficientData,
    ];

    /// The wire name (`overweight_acquisition`…), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::OverweightAcquisition => "overweight_acquisition",
            VerdictKind::OverweightRetention => "overweight_retention",
            VerdictKind::Balanced => "balanced",
            VerdictKind::InsufficientData => "insufficient_data",
        }
    }
}

/// "Are you overweight in acquisition?" (seed 002), with the numbers behind the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub message: String,
    pub acquisition_spend_share: Option<f64>,
    pub new_revenue_share: Option<f64>,
    /// (acquisition spend share − new revenue share) in percentage points.
    pub difference_points: Option<f64>,
    pub tolerance_points: f64,
    pub what_if: WhatIf,
    pub reference: crate::config::Reference,
}

fn classify(acq_share: Option<f64>, new_rev_share: Option<f64>, tolerance: f64) -> (VerdictKind, Option<f64>) {
    match (acq_share, new_rev_share) {
        (Some(a), Some(r)) => {
            let diff = (a - r) * 100.0;
            let kind = if diff > tolerance {
                VerdictKind::OverweightAcquisition
            } else if diff < -tolerance {
                VerdictKind::OverweightRetention
            } else {
                VerdictKind::Balanced
            };
            (kind, Some(diff))
        }
        _ => (VerdictKind::InsufficientData, None),
    }
}

/// A what-if's figures minus the figures it starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhatIfChanges {
    pub acquisition_spend_minor: i64,
    pub retention_spend_minor: i64,
    pub revenue_new_minor: Option<i64>,
    pub revenue_existing_minor: Option<i64>,
}

/// Basis points of a period's total spend (1/100 of a percent): the one unit of every what-if position,
/// positive from acquisition to retention. The settings' `what_if_pct` and the widget's slider both become
/// basis points before any money moves, so one position always gives one what-if (a `what_if_pct` of 12.5
/// is 1,250, not 12 or 13 whole percent).
pub type BasisPoints = i32;

const BP_PER_WHOLE: i128 = 10_000;

/// `pct` percent in basis points, rounded to the nearest and kept within ±100 %.
pub fn basis_points_of_pct(pct: f64) -> BasisPoints {
    if !pct.is_finite() {
        return 0;
    }
    (pct * 100.0).round().clamp(-10_000.0, 10_000.0) as BasisPoints
}

/// The positions a what-if can take in `f`: (−the retention share, +the acquisition share) of total spend,
/// rounded towards zero so no position moves more than a side has; (0, 0) without spend.
pub fn what_if_bounds(f: &BudgetFigures) -> (BasisPoints, BasisPoints) {
    let total = i128::from(f.total_spend_minor);
    if total <= 0 {
        return (0, 0);
    }
    let bp = |side: i64| (i128::from(side.max(0)) * BP_PER_WHOLE / total).min(BP_PER_WHOLE) as BasisPoints;
    (-bp(f.retention.spend_minor), bp(f.acquisition.spend_minor))
}

/// Money a position moves: `position` basis points of total spend, rounded half away from zero.
pub fn moved_minor_at(f: &BudgetFigures, position: BasisPoints) -> i64 {
    let moved = i128::from(f.total_spend_minor) * i128::from(position);
    let rounded = (2 * moved.abs() + BP_PER_WHOLE) / (2 * BP_PER_WHOLE) * moved.signum();
    i64::try_from(rounded).unwrap_or(if moved < 0 { i64::MIN } else { i64::MAX })
}

/// The what-if at slider `position` (clamped to [`what_if_bounds`]): what the verdict suggests and what the
/// widget's slider shows both come from here.
pub fn what_if_at(f: &BudgetFigures, position: BasisPoints, tolerance_points: f64) -> WhatIf {
    let (lo, hi) = what_if_bounds(f);
    let position = position.clamp(lo, hi);
    WhatIf { position_bp: position, ..project(f, moved_minor_at(f, position), tolerance_points) }
}

impl WhatIf {
    /// Retention's share of total spend after the move.
    pub fn retention_share(&self) -> Option<f64> {
        ratio_i(self.retention_spend_minor, self.acquisition_spend_minor.saturating_add(self.retention_spend_minor))
    }

    /// Existing customers' share of revenue after the move.
    pub fn existing_revenue_share(&self) -> Option<f64> {
        match (self.acquisition_revenue_minor, self.retention_revenue_minor) {
            (Some(x), Some(y)) => ratio_i(y, x.saturating_add(y)),
            _ => None,
        }
    }

    /// How each figure moves from `now` (the figures the what-if starts from) to the projection; `None`
    /// where the projection is.
    pub fn changes_from(&self, now: &BudgetFigures) -> WhatIfChanges {
        let from = |projected: Option<i64>, current: i64| projected.map(|p| p.saturating_sub(current));
        WhatIfChanges {
            acquisition_spend_minor: self.acquisition_spend_minor.saturating_sub(now.acquisition.spend_minor),
            retention_spend_minor: self.retention_spend_minor.saturating_sub(now.retention.spend_minor),
            revenue_new_minor: from(self.acquisition_revenue_minor, now.acquisition.revenue_minor),
            revenue_existing_minor: from(self.retention_revenue_minor, now.retention.revenue_minor),
        }
    }

    /// The money moved, signed like positions (positive from acquisition to retention).
    pub fn signed_moved_minor(&self) -> i64 {
        if self.from_purpose == Side::Acquisition { self.moved_minor } else { -self.moved_minor }
    }
}

/// Projects the figures after moving `moved_minor` of spend from one side to the other (negative moves
/// from retention to acquisition), at each side's measured return per dollar.
fn project(f: &BudgetFigures, moved_minor: i64, tolerance_points: f64) -> WhatIf {
    let a = &f.acquisition;
    let r = &f.retention;
    // Never move more than a side has.
    let moved = moved_minor.clamp(-r.spend_minor.max(0), a.spend_minor.max(0));
    let acq_spend = a.spend_minor.saturating_sub(moved);
    let ret_spend = r.spend_minor.saturating_add(moved);
    // revenue' = revenue + Δspend · revenue / spend, in integers, rounded half away from zero.
    let project = |revenue: i64, spend: i64, delta: i64| -> Option<i64> {
        if spend == 0 {
            return if delta == 0 { Some(revenue) } else { None };
        }
        let (n, d) = (i128::from(delta) * i128::from(revenue), i128::from(spend));
        let extra = (2 * n.abs() + d.abs()) / (2 * d.abs()) * if (n < 0) != (d < 0) { -1 } else { 1 };
        i64::try_from(i128::from(revenue) + extra).ok()
    };
    let acq_rev = project(a.revenue_minor, a.spend_minor, -moved);
    let ret_rev = project(r.revenue_minor, r.spend_minor, moved);
    let total_spend = acq_spend.saturating_add(ret_spend);
    let acq_share = ratio_i(acq_spend, total_spend);
    let new_share = match (acq_rev, ret_rev) {
        (Some(x), Some(y)) => ratio_i(x, x.saturating_add(y)),
        _ => None,
    };
    let (from_purpose, to_purpose) =
        if moved >= 0 { (Side::Acquisition, Side::Retention) } else { (Side::Retention, Side::Acquisition) };
    WhatIf {
        from_purpose,
        to_purpose,
        moved_minor: moved.abs(),
        position_bp: 0,
        moved_pct_of_total: ratio_i(moved.abs(), total_spend),
        acquisition_spend_minor: acq_spend,
        retention_spend_minor: ret_spend,
        acquisition_share: acq_share,
        acquisition_revenue_minor: acq_rev,
        retention_revenue_minor: ret_rev,
        revenue_delta_minor: match (acq_rev, ret_rev) {
            (Some(x), Some(y)) => Some(x.saturating_add(y).saturating_sub(f.total_revenue_minor)),
            _ => None,
        },
        new_revenue_share: new_share,
        verdict_kind: classify(acq_share, new_share, tolerance_points).0,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// The verdict for a period, with its what-if.
pub fn verdict(f: &BudgetFigures, settings: &Settings) -> Verdict {
    let b = &settings.budget;
    let acq_share = f.acquisition.share;
    let new_share = f.acquisition.revenue_share;
    let (kind, diff) = classify(acq_share, new_share, b.tolerance_points);
    let amount = basis_points_of_pct(b.what_if_pct);
    // Move against the imbalance; when balanced, towards the side with the better measured return.
    let towards_retention = match kind {
        VerdictKind::OverweightAcquisition => true,
        VerdictKind::OverweightRetention => false,
        _ => match (f.acquisition.return_per_dollar, f.retention.return_per_dollar) {
            (Some(a), Some(r)) => r >= a,
            _ => true,
        },
    };
    let what_if = what_if_at(f, if towards_retention { amount } else { -amount }, b.tolerance_points);
    let message = match kind {
        VerdictKind::InsufficientData => {
            "Not enough data to judge the split: the period needs both spend and revenue.".to_owned()
        }
        _ => {
            let head = format!(
                "Acquisition takes {} of spend while new customers brought {} of revenue",
                pct(acq_share),
                pct(new_share)
            );
            let d = diff.unwrap_or(0.0);
            match kind {
                VerdictKind::OverweightAcquisition => format!(
                    "{head}: overweight in acquisition by {:.0} points (tolerance {:.0}).",
                    d, b.tolerance_points
                ),
                VerdictKind::OverweightRetention => format!(
                    "{head}: overweight in retention by {:.0} points (tolerance {:.0}).",
                    -d, b.tolerance_points
                ),
                _ => format!("{head}: balanced within {:.0} points.", b.tolerance_points),
            }
        }
    };
    Verdict {
        kind,
        message,
        acquisition_spend_share: acq_share,
        new_revenue_share: new_share,
        difference_points: diff,
        tolerance_points: b.tolerance_points,
        what_if,
        reference: b.reference.clone(),
    }
}
