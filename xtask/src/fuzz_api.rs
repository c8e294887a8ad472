//! `cargo xtask fuzz-api [--max-examples N] [--max-time S]`: property-based fuzzing of the HTTP API from its
//! description (`docs/openapi.json`) with schemathesis, bounded.
//!
//! Installs schemathesis (pinned, from PyPI) into a venv under `.daytwo/`, starts the Worker on a free loopback
//! port with a fresh state folder, seeds a site `demo` (events, a spend ledger, a rollup) and the credentials of
//! every security scheme, then runs `schemathesis run` against 127.0.0.1 only with the checks the issue asks
//! for: no 5xx, every status, content type and body as described. Any finding fails the command. On demand, not
//! in CI (`cargo xtask test` runs the conformance test of the end-to-end suite instead).

use crate::{Result, root};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The schemathesis release the checks' names and the config format below are written for.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// What schemathesis checks: no server error, and every answer as described.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// The site every generated request names by default (the `site` parameter's example).
const SITE: &str = "demo";

/// Bounds of a run: examples per operation and phase, and the whole run's time.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_examples: u32,
    pub max_time_s: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_examples: 50, max_time_s: 240 }
    }
}

/// A venv with schemathesis at [`SCHEMATHESIS_VERSION`] (created or upgraded only when needed); returns its
/// `schemathesis` executable.
fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = root().join(".daytwo/schemathesis");
    let bin = venv.join("bin/schemathesis");
    let installed = Command::new(&bin).arg("--version").output().ok();
    if installed.is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS_VERSION)) {
        return Ok(bin);
    }
    let venv_s = venv.display().to_string();
    crate::run("python3", &["-m", "venv", &venv_s])?;
    let pip = venv.join("bin/pip").display().to_string();
    crate::run(
        &pip,
        &["install", "--quiet", "--disable-pip-version-check", &format!("schemathesis=={SCHEMATHESIS_VERSION}")],
    )?;
    Ok(bin)
}

/// One request to the seeding calls; fails on anything but 2xx.
fn call(method: &str, url: &str, auth: &str, content_type: &str, body: &str) -> Result<Value> {
    let mut req = crate::demo::agent().post(url);
    if method == "PUT" {
        req = crate::demo::agent().put(url);
    }
    if !auth.is_empty() {
        req = req.header("authorization", auth);
    }
    let mut r = req.header("content-type", content_type).send(body).map_err(|e| format!("{method} {url}: {e}"))?;
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(format!("{method} {url} answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{method} {url}: {e}: {text}"))
}

/// The seeded site's credentials, by security scheme name.
struct Credentials {
    write_key: String,
    read_token: String,
    embed_token: String,
}

/// Creates site [`SITE`] with a few events and a spend ledger, rolled up, and mints an embed token.
fn seed(base: &str, admin: &str) -> Result<Credentials> {
    let bearer = format!("Bearer {admin}");
    let site = format!("{base}/v1/sites/{SITE}");
    let created = call(
        "PUT",
        &site,
        &bearer,
        "application/json",
        r#"{"currency":"USD","allowed_origins":["https://intranet.example"]}"#,
    )?;
    let field = |k: &str| created[k].as_str().map(str::to_owned).ok_or_else(|| format!("no {k} in {created}"));
    let (write_key, secret_key, read_token) = (field("write_key")?, field("secret_write_key")?, field("read_token")?);
    // The secret key in the body (`writeKey`), as a server would send a backfill.
    let batch = json!({"writeKey": secret_key, "batch": [
        {"type": "identify", "userId": "lead-1", "anonymousId": "v-1", "timestamp": "2026-10-03T10:00:00Z",
         "traits": {"name": "Lee Lead"}},
        {"type": "group", "userId": "acme-u", "groupId": "acme", "timestamp": "2026-10-04T10:00:00Z",
         "traits": {"name": "Acme Corp"}},
        {"type": "track", "userId": "acme-u", "event": "Order Completed", "timestamp": "2026-10-06T10:00:00Z",
         "properties": {"revenue": 300}},
        {"type": "page", "anonymousId": "v-2", "timestamp": "2026-10-02T10:00:00Z", "properties": {"path": "/pricing"}}
    ]});
    call("POST", &format!("{base}/v1/batch"), "", "application/json", &batch.to_string())?;
    let spend = json!([
        {"id": "oct-search", "from": "2026-10-01", "to": "2026-11-01", "channel": "search", "amount_minor": 300000,
         "currency": "USD", "purpose": "acquisition"},
        {"id": "oct-news", "from": "2026-10-01", "to": "2026-11-01", "channel": "email", "amount_minor": 100000,
         "currency": "USD", "purpose": "retention"}
    ]);
    call("POST", &format!("{site}/spend"), &bearer, "application/json", &spend.to_string())?;
    call("POST", &format!("{site}/rollup"), &bearer, "application/json", "")?;
    let minted =
        call("POST", &format!("{site}/embed-tokens"), &bearer, "application/json", r#"{"ttl_seconds":86400}"#)?;
    let embed_token = minted["token"].as_str().map(str::to_owned).ok_or_else(|| format!("no token in {minted}"))?;
    Ok(Credentials { write_key, read_token, embed_token })
}

/// schemathesis's configuration: one credential per security scheme of the description.
fn config(write_key: &str, admin: &str, read_token: &str, embed_token: &str) -> String {
    format!(
        "# Written by `cargo xtask fuzz-api` for one run.\n\
         [auth.openapi.writeKeyBasic]\nusername = \"{write_key}\"\npassword = \"\"\n\n\
         [auth.openapi.adminToken]\nbearer = \"{admin}\"\n\n\
         [auth.openapi.readToken]\nbearer = \"{read_token}\"\n\n\
         [auth.openapi.embedToken]\nbearer = \"{embed_token}\"\n"
    )
}

/// The operations that replace the seeded site's credentials (`PUT …?rotate=true`, the embed tokens'
/// revocation): left out of the first pass, so its read token and embed token stay valid throughout it.
const ROTATING: &str = "^(putSite|revokeEmbedTokens)$";

/// Runs the whole thing; fails when schemathesis reports anything.
///
/// Two passes, both with the checks of [`CHECKS`]: every operation but the [`ROTATING`] ones with each security
/// scheme's own credential (the seeded site's write key, read token and embed token, the admin token); then
/// every operation, the read schemes given the admin token (which reads every site), since generated
/// requests rotate the seeded site's credentials as soon as they may.
pub fn run(bounds: Bounds) -> Result {
    let schemathesis = ensure_schemathesis()?;
    let dir = root().join(".daytwo/fuzz-api");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (_server, base) = crate::scale::start_server(&dir)?;
    let admin = crate::scale::ADMIN;
    let creds = seed(&base, admin)?;
    let deadline = Instant::now() + Duration::from_secs(u64::from(bounds.max_time_s));
    let passes = [
        ("own-credentials", config(&creds.write_key, admin, &creds.read_token, &creds.embed_token), true),
        ("all-operations", config(&creds.write_key, admin, admin, admin), false),
    ];
    let mut failed = Vec::new();
    for (name, text, skip_rotating) in passes {
        let config_file = dir.join(format!("schemathesis-{name}.toml"));
        std::fs::write(&config_file, text).map_err(|e| format!("{}: {e}", config_file.display()))?;
        let mut filter = Vec::new();
        if skip_rotating {
            filter.extend(["--exclude-operation-id-regex", ROTATING]);
        }
        let run = Pass { config: &config_file, report: &dir.join(format!("report-{name}")), filter: &filter };
        let status = schemathesis_run(&schemathesis, &base, &run, bounds.max_examples, deadline)?;
        if !status.success() {
            failed.push(name);
        }
    }
    eprintln!("fuzz-api: server log {}, reports in {}", dir.join("server.log").display(), dir.display());
    if failed.is_empty() { Ok(()) } else { Err(format!("schemathesis found problems in pass {}", failed.join(", "))) }
}

/// One `schemathesis run`: its configuration, report folder and operation filter.
struct Pass<'a> {
    config: &'a Path,
    report: &'a Path,
    filter: &'a [&'a str],
}

fn schemathesis_run(
    bin: &Path,
    base: &str,
    pass: &Pass<'_>,
    max_examples: u32,
    deadline: Instant,
) -> Result<std::process::ExitStatus> {
    let spec = root().join("docs/openapi.json");
    let mut cmd = Command::new(bin);
    cmd.arg("--config-file")
        .arg(pass.config)
        .arg("run")
        .arg(&spec)
        .args(["--url", base, "--checks", CHECKS, "--workers", "1", "--request-timeout", "60"])
        .args(["--max-examples", &max_examples.to_string(), "--seed", "1"])
        .args(pass.filter)
        .args(["--report", "junit,ndjson", "--report-dir"])
        .arg(pass.report)
        // schemathesis keeps its example database in the working folder: the run's own, not the repository.
        .current_dir(pass.report.parent().unwrap_or(&root()));
    eprintln!("$ {cmd:?}");
    let mut child = cmd.spawn().map_err(|e| format!("schemathesis: {e}"))?;
    // A time bound that stops the run (schemathesis's own `--max-time` is a budget it fills).
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("schemathesis: {e}"))? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("schemathesis did not finish within the time bound (--max-time)".into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
