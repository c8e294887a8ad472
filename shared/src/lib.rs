//! Daytwo's domain core: everything that decides a number the product shows.
//!
//! Pure: no I/O, no clock reads, no randomness. Time, configuration and salts are parameters, so the Worker,
//! the CLI and the widget compute identical figures from identical inputs.
//!
//! Data flows one way: [`message`] validates Segment messages → [`rollup`] folds them into a mergeable
//! state → [`rollup::RollupState::accounts`] resolves identities into account histories → [`lifecycle`],
//! [`engagement`] and [`playbook`] judge each account → [`report`] computes the figures, [`export`] writes CSV.

pub mod config;
pub mod contribution;
pub mod data_status;
pub mod engagement;
pub mod event_time;
pub mod export;
pub mod identity;
pub mod lifecycle;
pub mod message;
pub mod money;
pub mod order;
pub mod playbook;
pub mod privacy;
pub mod query;
pub mod read_model;
pub mod report;
pub mod rollup;
pub mod signals;
pub mod site_rules;
pub mod spend;
pub mod time;
pub mod visitors;

#[cfg(test)]
mod testkit;
