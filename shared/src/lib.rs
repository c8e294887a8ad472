//! Daytwo's domain core: everything that decides a number the product shows.
//!
//! Pure: no I/O, no clock reads, no randomness. Time, configuration and salts are parameters, so the Worker,
//! the CLI and the widget compute identical figures from identical inputs.

pub mod money;
pub mod spend;
pub mod time;
