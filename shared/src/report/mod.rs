//! Reports: budget split, lifecycle, funnel, engagement and accounts, computed from resolved account
//! histories and the spend ledger. Ratios are `None` (JSON `null`) when undefined.
//!
//! | module | what |
//! |---|---|
//! | [`budget`] | the budget split's figures, the previous period's and their deltas, the funnel they carry |
//! | [`verdict`] | "are you overweight in acquisition?", and every what-if of moving spend (one unit: basis points) |
//! | [`evaluation`] | accounts evaluated on a day (stage, score), and the lifecycle and engagement reports over them |
//! | [`accounts`] | the account list (summary rows, filters, sort, pages) and one account's detail |

mod accounts;
mod budget;
mod evaluation;
#[cfg(test)]
mod tests;
mod verdict;

pub use accounts::*;
pub use budget::*;
pub use evaluation::*;
pub use verdict::*;

use crate::time::Day;
use serde::{Deserialize, Serialize};

/// A half-open day range [from, to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    pub fn days(&self) -> i32 {
        self.to.days_since(self.from)
    }
    /// The period of equal length just before this one.
    pub fn previous(&self) -> Period {
        Period { from: self.from.plus(-self.days()), to: self.from }
    }
    /// The last day inside the period.
    pub fn last_day(&self) -> Day {
        self.to.plus(-1)
    }
    pub fn contains(&self, d: Day) -> bool {
        self.from <= d && d < self.to
    }
}

/// `a / b` as a finite ratio, `None` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    let r = a / b;
    (b != 0.0 && r.is_finite()).then_some(r)
}

pub(crate) fn ratio_i(a: i64, b: i64) -> Option<f64> {
    ratio(a as f64, b as f64)
}

// ---------------------------------------------------------------------------------------------------------

/// Sums money without wrapping: at the extremes a total saturates instead of turning negative (release
/// builds wrap on overflow, debug builds panic; neither may reach a report).
pub(crate) fn sat_sum(values: impl Iterator<Item = i64>) -> i64 {
    values.fold(0i64, i64::saturating_add)
}
