//! End-to-end tests of the Worker on workerd (`wrangler dev`, real local KV), docs/design.md §4-§7 and §9.
//!
//! One binary, one shared server ([`harness::server`], started on first use with `cargo xtask serve`); every
//! test uses its own site ids, so they run in parallel on it. The restart test runs a server of its own.
//! Run with `cargo test -p daytwo-tests` (the server builds the Worker first if needed; the first build on a
//! fresh machine takes minutes). No server outlives the test process (see `harness`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth_matrix;
mod bad_input;
mod browser_snippet;
mod browser_support;
mod browser_widget;
mod concurrency;
mod cross_check;
mod data_status;
mod erasure;
mod fault;
mod harness;
mod idempotence;
mod large_batches;
mod openapi;
mod operations;
mod privacy;
mod queue_ingest;
mod read_model;
mod restart;
mod routes;
mod scale;
mod segment_client;
mod time_shapes;
mod trust;
mod visitors;
