//! Build and run automation: `cargo xtask <command>`. The README's two commands live here.
//!
//! - `cargo xtask run`: the product locally: Worker on `wrangler dev` (local KV on disk), a demo site
//!   imported through the public API, rolled up, with working `curl` examples printed.
//! - `cargo xtask test`: every check CI runs: fmt, clippy -D warnings, all tests (including the end-to-end
//!   suite against the real Worker), the wasm32 builds.
//! - `cargo xtask serve --port P --state DIR`: the Worker in the foreground, no demo data (docs/design.md §9).
//! - `cargo xtask build`: the Worker's wasm bundle and the static assets (wrangler.toml's build command).
//! - `cargo xtask bench`: the "Prove it" rows beside their peers (the offline engine against DuckDB, ingest
//!   against a bare JS Worker under wrk, the sizes; `peers.rs`); `--scale N [--in-app K]`: a site of N accounts
//!   through the real Worker (import, rollup, largest value, report latency beside `/health`); `--cost`: dollars
//!   per million events; `--first-chart`: time from navigation to the widget's first chart in headless Chromium.
//! - `cargo xtask fault [--load-only] [--seconds N]`: the kill/restart/concurrent-rollup tests, then 60 s (or N)
//!   of sustained load on 127.0.0.1
//!   (zero errors, workerd's memory sampled, every acknowledged event rolled up), into BENCHMARKS.md.
//! - `cargo xtask fuzz-api [--max-examples N] [--max-time S]`: schemathesis (PyPI) against the Worker on
//!   127.0.0.1 from `docs/openapi.json`, bounded; fails on any server error or answer outside the description.
//!
//! Each command installs what it needs, so a fresh machine needs no manual step.

mod assets;
mod cost;
mod demo;
mod first_chart;
mod fuzz_api;
mod load;
mod minify_names;
mod peers;
mod scale;
mod tools;
mod worker;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command in the workspace root, echoing it; fails on a non-zero exit.
pub(crate) fn run(program: &str, args: &[&str]) -> Result {
    run_env(program, args, &[])
}

pub(crate) fn run_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

/// Runs a test command, echoing its output, and adds up its `test result:` lines into `tally`.
fn run_tests(program: &str, args: &[&str], env: &[(&str, &str)], tally: &mut (u64, u64)) -> Result {
    use std::io::{BufRead, BufReader};
    eprintln!("$ {program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::result::Result::ok) {
            println!("{line}");
            if let Some(rest) = line.trim_start().strip_prefix("test result: ") {
                let count = |word: &str| {
                    rest.split(';')
                        .find_map(|part| {
                            part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ").strip_suffix(word)
                        })
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        .unwrap_or(0)
                };
                tally.0 += count(" passed");
                tally.1 += count(" failed");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

pub(crate) fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).current_dir(root()).output().map_err(|e| format!("{program}: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The crates built for the host: everything but the two wasm-only shells.
const NATIVE: [&str; 5] = ["--workspace", "--exclude", "daytwo-worker", "--exclude", "daytwo-widget"];

fn test() -> Result {
    let started = Instant::now();
    tools::ensure_components()?;
    tools::ensure_wasm_target()?;
    run("cargo", &["fmt", "--all", "--check"])?;
    let mut clippy = vec!["clippy", "--locked", "--all-targets"];
    clippy.extend(NATIVE);
    clippy.extend(["--", "-D", "warnings"]);
    run("cargo", &clippy)?;
    for p in ["daytwo-shared", "daytwo-worker", "daytwo-widget"] {
        run("cargo", &["clippy", "--locked", "-p", p, "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])?;
    }
    // The end-to-end suite needs the Worker bundle, the assets and the npm tooling; build them first.
    worker::build()?;
    assets::build()?;
    tools::ensure_chromium()?;
    let mut tally = (0, 0);
    let mut test = vec!["test", "--locked"];
    test.extend(NATIVE);
    run_tests("cargo", &test, &[], &mut tally)?;
    // The Worker's pure functions (queue chunking, …) natively; its shell needs workerd (the e2e suite).
    run_tests("cargo", &["test", "--locked", "-p", "daytwo-worker", "--lib"], &[], &mut tally)?;
    // The widget's component tests, in real headless Chromium through wasm-bindgen-test-runner.
    if root().join("frontend/tests").exists() {
        let args = ["test", "--locked", "-p", "daytwo-widget", "--target", "wasm32-unknown-unknown"];
        run_tests("cargo", &args, &[("CHROMEDRIVER", "/usr/bin/chromedriver")], &mut tally)?;
    }
    eprintln!("xtask test: every check passed in {:.0?}", started.elapsed());
    // The closing line CI reads: every test that ran, across all runners.
    println!("{} passed, {} failed", tally.0, tally.1);
    Ok(())
}

pub(crate) fn daytwo_bin() -> Result<PathBuf> {
    run("cargo", &["build", "--quiet", "--release", "--locked", "-p", "daytwo-cli"])?;
    Ok(target_dir().join("release/daytwo"))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the root when relative), else `target/`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root().join(d),
        _ => root().join("target"),
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// `--max-examples N` and `--max-time S` of `cargo xtask fuzz-api`, over the defaults.
fn fuzz_api_bounds(args: &[String]) -> Result<fuzz_api::Bounds> {
    let usage = || "usage: cargo xtask fuzz-api [--max-examples N] [--max-time SECONDS]".to_owned();
    let number = |name: &str, default: u32| match flag(args, name) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(usage),
    };
    let defaults = fuzz_api::Bounds::default();
    Ok(fuzz_api::Bounds {
        max_examples: number("--max-examples", defaults.max_examples)?,
        max_time_s: number("--max-time", defaults.max_time_s)?,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run" | "demo") => demo::run(flag(&args, "--port").and_then(|p| p.parse().ok()).unwrap_or(8787)),
        Some("bench") if args.iter().any(|a| a == "--cost") => cost::run(),
        Some("bench") if args.iter().any(|a| a == "--first-chart") => first_chart::run(),
        Some("bench") => match flag(&args, "--scale").map(|n| n.parse::<u32>()) {
            Some(Ok(n)) if n > 0 => match flag(&args, "--in-app").map_or(Ok(0), |k| k.parse::<u32>()) {
                Ok(in_app) => scale::run_scale(n, in_app, args.iter().any(|a| a == "--reports-only")),
                Err(_) => Err("usage: cargo xtask bench --scale N [--in-app K] [--reports-only]".into()),
            },
            Some(_) => {
                Err("usage: cargo xtask bench [--scale N [--in-app K] [--reports-only] | --cost | --first-chart]"
                    .into())
            }
            None => peers::run(),
        },
        Some("fault") => match flag(&args, "--seconds").map(|s| s.parse::<u64>()) {
            Some(Err(_)) => Err("usage: cargo xtask fault [--load-only] [--seconds N]".into()),
            seconds => load::run(args.iter().any(|a| a == "--load-only"), seconds.and_then(|s| s.ok())),
        },
        Some("fuzz-api") => fuzz_api_bounds(&args).and_then(fuzz_api::run),
        Some("build-worker") => worker::build(),
        Some("build-assets") => assets::build(),
        Some("build") => worker::build().and_then(|()| assets::build()),
        Some("serve") => match (flag(&args, "--port").and_then(|p| p.parse::<u16>().ok()), flag(&args, "--state")) {
            (Some(port), Some(state)) => worker::serve(&worker::ServeOptions { port, state: PathBuf::from(state) }),
            _ => Err("usage: cargo xtask serve --port P --state DIR".into()),
        },
        _ => Err("usage: cargo xtask <run|test|serve|build-worker|bench|fault|fuzz-api>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
