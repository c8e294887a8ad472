//! Building the Worker with worker-build (offline: local wasm-bindgen, npm's wasm-opt and esbuild) and
//! running it on `wrangler dev` with local KV on disk.

use crate::tools::{self, NodeTools};
use crate::{Result, root, run_env};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment that keeps wrangler offline, quiet and out of the home directory.
pub fn wrangler_env(node: &NodeTools) -> Vec<(String, String)> {
    let home = root().join(".daytwo/wrangler-home");
    vec![
        ("PATH".into(), node.path_env()),
        ("WRANGLER_SEND_METRICS".into(), "false".into()),
        ("WRANGLER_SEND_ERROR_REPORTS".into(), "false".into()),
        ("CLOUDFLARE_CF_FETCH_ENABLED".into(), "false".into()),
        ("XDG_CONFIG_HOME".into(), home.join("config").display().to_string()),
        ("XDG_CACHE_HOME".into(), home.join("cache").display().to_string()),
        ("WRANGLER_LOG_PATH".into(), home.join("logs").display().to_string()),
        ("NO_UPDATE_NOTIFIER".into(), "1".into()),
    ]
}

/// Newest modification time under the given folders and files (relative to the root).
pub fn newest_source(dirs: &[&str], files: &[&str]) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, newest);
            } else if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                *newest = Some(newest.map_or(t, |n| n.max(t)));
            }
        }
    }
    let r = root();
    let mut newest = None;
    for d in dirs {
        walk(&r.join(d), &mut newest);
    }
    for f in files {
        if let Ok(t) = std::fs::metadata(r.join(f)).and_then(|m| m.modified()) {
            newest = Some(newest.map_or(t, |n: std::time::SystemTime| n.max(t)));
        }
    }
    newest
}

/// Whether `output` exists and is newer than every listed source.
pub fn up_to_date(output: &Path, dirs: &[&str], files: &[&str]) -> bool {
    let built = std::fs::metadata(output).and_then(|m| m.modified()).ok();
    matches!((built, newest_source(dirs, files)), (Some(b), Some(src)) if b > src)
}

/// The Worker's optimised WebAssembly, as `build` leaves it.
pub fn bundle_wasm() -> PathBuf {
    root().join("worker/build/index_bg.wasm")
}

/// The Worker bundle's budget, gzip bytes: the bundle is the Worker's cold start. A build over it fails.
pub const BUNDLE_BUDGET_GZIP: usize = 409_600;

/// `worker-build --profile worker` (Cargo.toml: size-optimised, LTO) in `worker/`, producing `worker/build/index.js` and its wasm; skipped when the
/// output is newer than every source (wrangler runs this as its build command on every start). Fails when the
/// bundle is over [`BUNDLE_BUDGET_GZIP`], the up-to-date one included. `DAYTWO_WORKER_NAMES=1` also writes
/// `.daytwo/index_bg.names.wasm`, the same bundle with its function names, for `twiggy` (never deployed).
pub fn build() -> Result {
    let wasm = bundle_wasm();
    // docs/openapi.json is not compiled in: it is a static asset (`assets::build`, worker/src/openapi.rs).
    let sources = ["Cargo.lock", "Cargo.toml", "worker/Cargo.toml", "shared/Cargo.toml"];
    if up_to_date(&wasm, &["worker/src", "shared/src"], &sources) && root().join("worker/build/index.js").exists() {
        eprintln!("worker build is up to date");
        return check_budget(&wasm);
    }
    tools::ensure_wasm_target()?;
    let t = tools::ensure_worker_tools()?;
    let mut env = wrangler_env(&t.node);
    env.push(("WASM_BINDGEN_BIN".into(), t.wasm_bindgen.display().to_string()));
    env.push(("WASM_OPT_BIN".into(), t.node.tool("wasm-opt").display().to_string()));
    env.push(("ESBUILD_BIN".into(), t.node.tool("esbuild").display().to_string()));
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let wb = t.worker_build.display().to_string();
    run_in(&root().join("worker"), &wb, &["--profile", "worker"], &env_ref)?;
    // worker-build's own wasm-opt pass is `-O` and keeps the name section; the bundle is the cold start, so
    // shrink it once more: -Oz without names (measured: 477 KB → 415 KB gzip).
    let wasm_s = wasm.display().to_string();
    let wasm_opt = t.node.tool("wasm-opt").display().to_string();
    const FEATURES: [&str; 6] = [
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
    ];
    if std::env::var("DAYTWO_WORKER_NAMES").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(root().join(".daytwo")).map_err(|e| e.to_string())?;
        let named = root().join(".daytwo/index_bg.names.wasm").display().to_string();
        let mut args = vec!["-Oz", "-g", "--strip-producers"];
        args.extend(FEATURES);
        args.extend(["-o", &named, &wasm_s]);
        run_env(&wasm_opt, &args, &env_ref)?;
        eprintln!("with names (for `twiggy top -n 50 {named}`): {named}");
    }
    // A second -Oz round and the first KB of memory assumed unused (Rust's stack is the wasm's first megabyte,
    // growing down to 0, so only its overflow reaches there; the widget's build does the same): measured
    // 2026-12-08 on this bundle, 2.9 KB gzip less.
    let mut args = vec!["-Oz", "-Oz", "--low-memory-unused", "--strip-debug", "--strip-producers"];
    args.extend(FEATURES);
    args.extend(["-o", &wasm_s, &wasm_s]);
    run_env(&wasm_opt, &args, &env_ref)?;
    check_budget(&wasm)
}

/// Prints the bundle's size and fails when it is over the budget. The output stays (wrangler and the tests
/// would only rebuild the same bytes), so every later build, up to date or not, fails the same way until the
/// bundle is back under.
fn check_budget(wasm: &Path) -> Result {
    let (raw, gz) = crate::assets::sizes(wasm)?;
    println!("worker bundle: {raw} B wasm, {gz} B gzip (budget {BUNDLE_BUDGET_GZIP} B gzip)");
    if gz > BUNDLE_BUDGET_GZIP {
        return Err(format!(
            "the Worker bundle is {gz} B gzip, over its {BUNDLE_BUDGET_GZIP} B budget by {} B: it is the Worker's \
             cold start (ARCHITECTURE.md, worker/, \"The bundle\" says what it costs and what brought it down; \
             DAYTWO_WORKER_NAMES=1 writes a copy with names for twiggy)",
            gz - BUNDLE_BUDGET_GZIP
        ));
    }
    Ok(())
}

fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    eprintln!("$ (cd {}) {program} {}", dir.display(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{program} failed ({status})")) }
}

/// Reads a secret from the environment, else from a file in the state folder, else generates and saves one.
fn secret(var: &str, file: &Path) -> Result<String> {
    if let Ok(v) = std::env::var(var)
        && v.len() >= 16
    {
        return Ok(v);
    }
    if let Ok(v) = std::fs::read_to_string(file)
        && v.trim().len() >= 16
    {
        return Ok(v.trim().to_owned());
    }
    let v = random_hex(24)?;
    std::fs::write(file, &v).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(v)
}

fn random_hex(n: usize) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).map_err(|e| e.to_string())?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

pub struct ServeOptions {
    pub port: u16,
    pub state: PathBuf,
}

/// Writes the secrets file wrangler loads (`--env-file`), git-ignored inside the state folder.
pub fn write_secrets(state: &Path) -> Result<(String, PathBuf)> {
    std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
    let admin = secret("DAYTWO_ADMIN_TOKEN", &state.join("admin-token"))?;
    let embed = secret("DAYTWO_EMBED_SECRET", &state.join("embed-secret"))?;
    let env_file = state.join("secrets.env");
    let mut vars = format!("ADMIN_TOKEN={admin}\nEMBED_SECRET={embed}\n");
    // Test servers may lower the rollup's state cap, the read model's rebuild page, an erasure's scrub step and
    // the anonymous visitors' window to reach those paths with a small site, and run ingest through the queue (wrangler.toml's INGEST var).
    if let Ok(limit) = std::env::var("DAYTWO_MAX_STATE_BYTES") {
        vars.push_str(&format!("MAX_STATE_BYTES={}\n", limit.trim()));
    }
    if let Ok(rows) = std::env::var("DAYTWO_REBUILD_PAGE_ROWS") {
        vars.push_str(&format!("REBUILD_PAGE_ROWS={}\n", rows.trim()));
    }
    if let Ok(keys) = std::env::var("DAYTWO_SCRUB_PAGE_KEYS") {
        vars.push_str(&format!("SCRUB_PAGE_KEYS={}\n", keys.trim()));
    }
    if let Ok(secs) = std::env::var("DAYTWO_TAIL_REUSE_SECONDS") {
        vars.push_str(&format!("TAIL_REUSE_SECONDS={}\n", secs.trim()));
    }
    if let Ok(secs) = std::env::var("DAYTWO_ANONYMOUS_WINDOW_SECONDS") {
        vars.push_str(&format!("ANONYMOUS_WINDOW_SECONDS={}\n", secs.trim()));
    }
    if let Ok(mode) = std::env::var("DAYTWO_INGEST") {
        vars.push_str(&format!("INGEST={}\n", mode.trim()));
    }
    std::fs::write(&env_file, vars).map_err(|e| format!("{}: {e}", env_file.display()))?;
    Ok((admin, env_file))
}

/// The `wrangler dev` command line for a port and state folder (the process is the caller's to run).
pub fn wrangler_dev(opts: &ServeOptions) -> Result<(Command, String)> {
    tools::ensure_worker_tools()?;
    let node = tools::ensure_node_tools()?;
    let state = std::path::absolute(&opts.state).map_err(|e| e.to_string())?;
    let (admin, env_file) = write_secrets(&state)?;
    let inspector = if opts.port < u16::MAX - 1000 { opts.port + 1000 } else { opts.port - 1000 };
    let mut cmd = Command::new(node.tool("wrangler"));
    cmd.args(["dev", "--local", "--ip", "127.0.0.1"])
        .args(["--port", &opts.port.to_string()])
        .args(["--inspector-ip", "127.0.0.1", "--inspector-port", &inspector.to_string()])
        .arg("--persist-to")
        .arg(state.join("kv"))
        .arg("--env-file")
        .arg(&env_file)
        .args(["--show-interactive-dev-session=false", "--log-level", "warn"])
        .envs(wrangler_env(&node))
        .current_dir(root());
    // The ingest bench runs the same Worker once more from a copy of wrangler.toml without the asset layer
    // (`peers::config_without_assets`).
    if let Ok(config) = std::env::var("DAYTWO_WRANGLER_CONFIG") {
        cmd.arg("--config").arg(config);
    }
    Ok((cmd, admin))
}

/// Runs the Worker in the foreground (wrangler runs `cargo xtask build-worker` first, as wrangler.toml says).
pub fn serve(opts: &ServeOptions) -> Result {
    build()?;
    crate::assets::build()?;
    let (mut cmd, _admin) = wrangler_dev(opts)?;
    eprintln!("starting wrangler dev on http://127.0.0.1:{} (state in {})", opts.port, opts.state.display());
    let status = cmd.status().map_err(|e| format!("wrangler: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("wrangler dev exited ({status})")) }
}

#[allow(dead_code)]
pub fn run_wrangler(node: &NodeTools, args: &[&str]) -> Result {
    let env = wrangler_env(node);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_env(&node.tool("wrangler").display().to_string(), args, &env_ref)
}
