//! Build and run automation: `cargo xtask <command>`. The README's two commands live here.
//!
//! - `cargo xtask run`: the product locally (for now: a generated demo site and its offline reports).
//! - `cargo xtask test`: every check CI runs: fmt, clippy -D warnings, all tests, the wasm32 build of `shared`.
//! - `cargo xtask bench`: the CLI on a million generated events, timed.
//!
//! Each command installs what it needs (the wasm32 target) so a fresh machine needs no manual step.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command in the workspace root, echoing it; fails on a non-zero exit.
fn run(program: &str, args: &[&str]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status =
        Command::new(program).args(args).current_dir(root()).status().map_err(|e| format!("{program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).current_dir(root()).output().map_err(|e| format!("{program}: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rustup target add wasm32-unknown-unknown`, only when missing.
fn ensure_wasm_target() -> Result {
    if output("rustup", &["target", "list", "--installed"])?.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])
}

fn ensure_components() -> Result {
    let installed = output("rustup", &["component", "list", "--installed"])?;
    for c in ["rustfmt", "clippy"] {
        if !installed.lines().any(|l| l.starts_with(c)) {
            run("rustup", &["component", "add", c])?;
        }
    }
    Ok(())
}

fn test() -> Result {
    let started = Instant::now();
    ensure_components()?;
    ensure_wasm_target()?;
    run("cargo", &["fmt", "--all", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    run("cargo", &["test", "--workspace", "--locked"])?;
    run("cargo", &["build", "--locked", "-p", "daytwo-shared", "--target", "wasm32-unknown-unknown", "--release"])?;
    run(
        "cargo",
        &["clippy", "--locked", "-p", "daytwo-shared", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"],
    )?;
    eprintln!("xtask test: every check passed in {:.0?}", started.elapsed());
    Ok(())
}

fn daytwo(args: &[&str]) -> Result {
    let mut full = vec!["run", "--quiet", "--release", "--locked", "-p", "daytwo-cli", "--bin", "daytwo", "--"];
    full.extend_from_slice(args);
    run("cargo", &full)
}

fn demo() -> Result {
    let dir = root().join(".daytwo/demo");
    let dir_s = dir.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "42", "--accounts", "300", "--months", "18", "--out", &dir_s])?;
    let events = format!("{dir_s}/events.ndjson");
    let spend = format!("{dir_s}/spend.csv");
    for kind in ["budget", "lifecycle", "engagement"] {
        println!();
        daytwo(&["report", kind, "--events", &events, "--spend", &spend])?;
    }
    println!("\nDemo data is in {dir_s}; try `cargo run -p daytwo-cli -- report accounts --events {events}`.");
    Ok(())
}

fn bench() -> Result {
    let dir = root().join(".daytwo/bench");
    let dir_s = dir.to_string_lossy().into_owned();
    run("cargo", &["build", "--quiet", "--release", "--locked", "-p", "daytwo-cli"])?;
    let bin = root().join("target/release/daytwo");
    let bin_s = bin.to_string_lossy().into_owned();
    let t = Instant::now();
    run(
        &bin_s,
        &["generate", "--seed", "1", "--accounts", "33000", "--months", "12", "--end", "2026-11-01", "--out", &dir_s],
    )?;
    let generated = t.elapsed();
    let lines = std::fs::read_to_string(dir.join("events.ndjson")).map_err(|e| e.to_string())?.lines().count();
    let events = format!("{dir_s}/events.ndjson");
    let spend = format!("{dir_s}/spend.csv");
    for kind in ["budget", "lifecycle", "engagement"] {
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["report", kind, "--events", &events, "--spend", &spend, "--to", "2026-11-01", "--json"])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("report {kind} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let secs = t.elapsed().as_secs_f64();
        println!("report {kind:<10} {lines} events in {secs:.2} s ({:.0} events/s)", lines as f64 / secs);
    }
    println!("generate: {lines} events in {:.2} s", generated.as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run" | "demo") => demo(),
        Some("bench") => bench(),
        _ => Err("usage: cargo xtask <run|test|bench>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
