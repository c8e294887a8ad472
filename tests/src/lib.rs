//! End-to-end test support. The Worker-on-workerd and headless-Chromium suites (issues 3 and 4) live in
//! this crate's single test binary; the CLI's own end-to-end tests are in `cli/tests/cli.rs`.
