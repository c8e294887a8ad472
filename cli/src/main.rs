//! `daytwo`: a thin command-line shell over `daytwo-shared`.
//!
//! `generate` writes a synthetic site, `report` computes the product's reports offline from Segment NDJSON
//! and a spend CSV, streaming the events so a million lines fit in little memory.

mod generate;
mod import;
mod input;
mod load;
mod render;

use clap::{Parser, Subcommand};
use daytwo_shared::query::Format;
use daytwo_shared::query::ReportKind;
use daytwo_shared::time::{Day, Timestamp};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "daytwo", version, about = "Customer-lifecycle analytics: acquisition vs retention, offline.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a deterministic synthetic site: DIR/events.ndjson (Segment messages) and DIR/spend.csv.
    Generate {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        accounts: u32,
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Day after the last generated day (default: tomorrow, so the data runs up to today).
        #[arg(long, value_parser = parse_day)]
        end: Option<Day>,
        #[arg(long)]
        out: PathBuf,
        /// How messages carry their time: timestamp, sent-at, skewed, original or archive (the shapes of a
        /// backfill, a Segment library, a slow device clock as Segment exports it, RudderStack, Segment's S3
        /// archive). Every shape is the same history.
        #[arg(long, default_value = "timestamp", value_parser = parse_shape)]
        time_shape: generate::TimeShape,
        /// In-app events after each sign-in (product usage), for sites of many events per account.
        #[arg(long, default_value_t = 0)]
        in_app: u32,
    },
    /// Send an events file (and optionally a spend CSV) to a running Worker through its public API.
    Import {
        /// The Worker's base URL, e.g. http://127.0.0.1:8787
        #[arg(long)]
        url: String,
        /// The site's secret write key (`sk_…`): your own files are trusted. The public key (`wk_…`) works, and
        /// marks the events as a browser's.
        #[arg(long)]
        write_key: String,
        /// Event files (NDJSON, plain or gzipped; `-` for standard input). Each message keeps its time: it is
        /// resolved as `daytwo report` resolves it and sent as a final `timestamp`.
        #[arg(long, num_args = 1..)]
        events: Vec<PathBuf>,
        #[arg(long)]
        spend: Option<PathBuf>,
        /// Site id, for the spend import.
        #[arg(long)]
        site: Option<String>,
        /// Admin token, for the spend import (or DAYTWO_ADMIN_TOKEN).
        #[arg(long, env = "DAYTWO_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
    /// Compute a report from an events file (NDJSON, one message or batch per line) and a spend CSV.
    Report {
        /// budget, lifecycle, funnel, engagement or accounts
        #[arg(value_parser = parse_kind)]
        kind: ReportKind,
        /// Event files: NDJSON, one message or batch per line, plain or gzipped (Segment's archive), several
        /// at once; `-` reads standard input.
        #[arg(long, num_args = 1.., required = true)]
        events: Vec<PathBuf>,
        #[arg(long)]
        spend: Option<PathBuf>,
        /// First day of the period (default: 90 days before --to).
        #[arg(long, value_parser = parse_day)]
        from: Option<Day>,
        /// Day after the period (default: tomorrow).
        #[arg(long, value_parser = parse_day)]
        to: Option<Day>,
        /// Evaluate stages and scores at the end of this day (default: the day before --to).
        #[arg(long, value_parser = parse_day)]
        as_of: Option<Day>,
        /// Site settings as JSON (docs/design.md §3 tunables); defaults otherwise.
        #[arg(long)]
        settings: Option<PathBuf>,
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Skip invalid lines (counted on stderr) instead of stopping at the first.
        #[arg(long)]
        skip_invalid: bool,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
}

fn parse_kind(s: &str) -> Result<ReportKind, String> {
    ReportKind::from_name(s).ok_or_else(|| "expected budget, lifecycle, funnel, engagement or accounts".to_owned())
}

fn parse_shape(s: &str) -> Result<generate::TimeShape, String> {
    generate::TimeShape::parse(s).ok_or_else(|| format!("expected one of {}", generate::TimeShape::NAMES.join(", ")))
}

fn parse_day(s: &str) -> Result<Day, String> {
    Day::parse(s).map_err(|e| e.to_string())
}

/// The CLI is the shell: it may read the clock, `shared` may not. The clock only picks default dates; it is
/// never an event's receive time.
fn now() -> Timestamp {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    Timestamp(ms)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate { seed, accounts, months, end, out, time_shape, in_app } => {
            let end = end.unwrap_or_else(|| now().day().plus(1));
            let opts =
                generate::GenerateOptions { seed, accounts, months, end, currency: "USD".into(), time_shape, in_app };
            run_generate(&opts, &out)
        }
        Command::Import { url, write_key, events, spend, site, admin_token, batch_size } => {
            import::run(&import::ImportArgs {
                url,
                write_key,
                events,
                spend,
                site,
                admin_token,
                batch_size: batch_size.clamp(1, 500),
            })
        }
        Command::Report { kind, events, spend, from, to, as_of, settings, currency, skip_invalid, json, csv } => {
            let today = now().day();
            let period = daytwo_shared::query::period_of(from, to, today);
            let args = load::ReportArgs {
                kind,
                events,
                spend,
                from: period.from,
                to: period.to,
                as_of: as_of.unwrap_or(daytwo_shared::query::default_as_of(period, today)),
                settings,
                currency,
                skip_invalid,
                format: if json {
                    Some(Format::Json)
                } else if csv {
                    Some(Format::Csv)
                } else {
                    None
                },
            };
            load::run_report(&args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daytwo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_generate(opts: &generate::GenerateOptions, out: &std::path::Path) -> Result<(), String> {
    use std::io::{BufWriter, Write};
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let open = |name: &str| {
        let path = out.join(name);
        std::fs::File::create(&path).map(BufWriter::new).map_err(|e| format!("{}: {e}", path.display()))
    };
    let (mut events, mut spend) = (open("events.ndjson")?, open("spend.csv")?);
    let summary = generate::generate(opts, &mut events, &mut spend).map_err(|e| e.to_string())?;
    events.flush().and_then(|()| spend.flush()).map_err(|e| e.to_string())?;
    println!(
        "wrote {} events for {} accounts ({} users) from {} to {}, and {} spend entries, to {}",
        summary.events,
        summary.accounts,
        summary.users,
        summary.first_day,
        summary.last_day,
        summary.spend_entries,
        out.display()
    );
    Ok(())
}
