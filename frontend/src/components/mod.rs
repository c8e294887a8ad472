//! The dashboard's parts, one per file.
//!
//! The root `App` (in `app.rs`) is the one `#[component]`: it holds the state (`state.rs`) and the effects;
//! every part here is a plain view function from data and callbacks to `Html`. Measured: each component type
//! costs about 0.3–0.5 KB of gzip in generic yew machinery, and the widget's whole transfer has a 120 KiB budget (`cargo xtask build-assets` fails over it).
//! The parts without listeners (the charts, their tables, the key figures) are written as markup text
//! (`crate::markup`) rather than `html!`: 1.7 KB gzip less for those four, 0.7 KB for the campaign table.

pub mod account_detail;
pub mod accounts_table;
pub mod bands;
pub mod bar_chart;
pub mod card;
pub mod column_chart;
pub mod data_notice;
pub mod data_table;
pub mod empty_state;
pub mod error_panel;
pub mod funnel;
pub mod header;
pub mod indicators;
pub mod kpi;
pub mod loading;
pub mod overview;
pub mod period_picker;
pub mod score_histogram;
pub mod spend;
pub mod stages;
pub mod tabs;
pub mod verdict_card;
pub mod what_if;
