//! `cargo xtask demo`: a whole call built from the ICLR 2018 submissions and driven through
//! the HTTP API of a running referee server, with a check of the conflicts that referee
//! detects against a count from the raw file.
//!
//! The demo starts its own server on a loopback port (SQLite by default, PostgreSQL with
//! `--database-url` or `--postgres`) or uses a running one (`--server` and `--token`). The
//! steps and the summary are in [`workflow`] and [`summary`].

mod client;
mod count;
mod data;
mod document;
mod summary;
mod workflow;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Utc};
use clap::Args;

use crate::conformance;
use crate::database::{self, ServerOptions};
use crate::schemathesis::{self, Server};
use crate::workspace::Workspace;

use self::client::Api;
use self::data::Dataset;

/// The submissions file, relative to the workspace root.
pub const DEFAULT_DATA_FILE: &str = "../shared/data/iclr2018.json";

/// Year of the oldest papers in the file; the co-authorship window reaches back to it.
const EARLIEST_PAPER_YEAR: i32 = 2017;

/// Database that `--postgres` creates on its cluster.
const POSTGRES_DATABASE: &str = "referee_demo";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The ICLR 2018 submissions: a JSON array of objects with title, abstract, authors,
    /// emails (author e-mail domains) and decision [default: ../shared/data/iclr2018.json,
    /// relative to the workspace root].
    #[arg(long, env = "REFEREE_DEMO_DATA", value_name = "FILE")]
    data: Option<PathBuf>,

    /// Use only the first N submissions and their authors.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    sample: Option<u32>,

    /// Seed of the random choice of the reviewers who accept and decline.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Share of the reviewers with assignments who accept all of theirs, 0 to 1.
    #[arg(long, value_name = "SHARE", default_value_t = 0.6)]
    accept_share: f64,

    /// Share of the reviewers with assignments who decline all of theirs, 0 to 1; each
    /// declined item is reassigned to the best suggested reviewer with free capacity.
    #[arg(long, value_name = "SHARE", default_value_t = 0.1)]
    decline_share: f64,

    /// Reviewers per proposal.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    reviewers_per_proposal: u32,

    /// Workload limit of every reviewer: open assignments at most.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=50))]
    max_assignments: u32,

    /// Database of the server that the demo starts, for example
    /// postgres://postgres@127.0.0.1:5432/referee_demo; it is migrated first and may hold
    /// data of earlier runs [default: a new SQLite file in <target dir>/demo/].
    #[arg(long, value_name = "URL", conflicts_with_all = ["postgres", "server"])]
    database_url: Option<String>,

    /// Run the server on PostgreSQL: a throwaway cluster from the local binaries (or
    /// testcontainers with xtask's `docker` feature), removed after the run.
    #[arg(long, conflicts_with = "server")]
    postgres: bool,

    /// Directory with initdb, pg_ctl and psql for --postgres [default: the output of
    /// `pg_config --bindir`].
    #[arg(long, env = "PG_BINDIR", value_name = "DIR")]
    pg_bindir: Option<PathBuf>,

    /// Use the running server at this http:// URL instead of starting one. Its request
    /// timeout (`--request-timeout-secs`, 60 s by default) must allow the slowest step.
    #[arg(long, value_name = "URL", requires = "token")]
    server: Option<String>,

    /// API token of a staff user of --server.
    #[arg(long, value_name = "TOKEN", requires = "server")]
    token: Option<String>,

    /// Build and start the release binary instead of the debug one.
    #[arg(long)]
    release: bool,
}

/// Source of the demo's server.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new SQLite database in `<target dir>/demo/`.
    Sqlite,
    /// The given database, migrated first.
    DatabaseUrl(String),
    /// A throwaway PostgreSQL server with a new database.
    Postgres { pg_bindir: Option<PathBuf> },
    /// A running server.
    Server { url: String, token: String },
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    pub sample: Option<usize>,
    pub seed: u64,
    pub accept_share: f64,
    pub decline_share: f64,
    pub reviewers_per_proposal: u32,
    pub max_assignments: u32,
    pub target: Target,
    pub release: bool,
}

/// Submissions of the demo in a conformance run.
pub const CONFORMANCE_SAMPLE: usize = 40;

/// Returns the submissions file for a conformance run (`REFEREE_DEMO_DATA`, else the
/// default path), or `None` with a note on standard error when it does not exist.
pub fn conformance_data(workspace: &Workspace) -> Option<PathBuf> {
    let path = std::env::var_os("REFEREE_DEMO_DATA")
        .map_or_else(|| default_data_file(workspace), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    eprintln!(
        "note: the demo is skipped because the submissions file {} does not exist (set REFEREE_DEMO_DATA)",
        path.display()
    );
    None
}

/// Runs the demo with its default settings on the first [`CONFORMANCE_SAMPLE`] submissions
/// of `data`.
pub fn run_sample(workspace: &Workspace, data: PathBuf, target: Target) -> Result<Outcome> {
    let options = Options {
        data,
        sample: Some(CONFORMANCE_SAMPLE),
        seed: 42,
        accept_share: 0.6,
        decline_share: 0.1,
        reviewers_per_proposal: 3,
        max_assignments: 6,
        target,
        release: false,
    };
    execute(&options, workspace)
}

/// Result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// No conflict of interest was violated and the conflict counts agree.
    pub passed: bool,
    /// One line for reports.
    pub summary: String,
}

pub fn run(args: DemoArgs, workspace: &Workspace) -> Result<ExitCode> {
    for (name, share) in [
        ("--accept-share", args.accept_share),
        ("--decline-share", args.decline_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{name} {share} is out of range; give a share from 0 to 1");
        }
    }
    if args.accept_share + args.decline_share > 1.0 {
        bail!(
            "--accept-share {} and --decline-share {} add up to more than 1",
            args.accept_share,
            args.decline_share
        );
    }
    let target = match (args.server, args.token, args.database_url) {
        (Some(url), Some(token), _) => Target::Server { url, token },
        (_, _, Some(url)) => Target::DatabaseUrl(url),
        _ if args.postgres => Target::Postgres {
            pg_bindir: args.pg_bindir,
        },
        _ => Target::Sqlite,
    };
    let options = Options {
        data: args.data.unwrap_or_else(|| default_data_file(workspace)),
        sample: args.sample.map(|sample| sample as usize),
        seed: args.seed,
        accept_share: args.accept_share,
        decline_share: args.decline_share,
        reviewers_per_proposal: args.reviewers_per_proposal,
        max_assignments: args.max_assignments,
        target,
        release: args.release,
    };
    let outcome = execute(&options, workspace)?;
    Ok(if outcome.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn default_data_file(workspace: &Workspace) -> PathBuf {
    workspace.root.join(DEFAULT_DATA_FILE)
}

/// Returns the co-authorship lookback in years that reaches back to the oldest papers.
pub fn coauthorship_lookback_years(current_year: i32) -> i32 {
    (current_year - EARLIEST_PAPER_YEAR).max(0)
}

/// Runs the demo and prints its summary on standard output.
pub fn execute(options: &Options, workspace: &Workspace) -> Result<Outcome> {
    let mut timings = Timings::default();
    let started = Instant::now();

    // A server that may hold an earlier run gets new names for the users and the call.
    let tag = match options.target {
        Target::Sqlite | Target::Postgres { .. } => None,
        Target::DatabaseUrl(_) | Target::Server { .. } => Some(run_tag()),
    };
    let dataset = timings.step("read the submissions file", || {
        Dataset::load(&options.data, options.sample, tag.as_deref())
    })?;
    eprintln!(
        "demo: {} submissions, {} authors",
        dataset.submissions.len(),
        dataset.people.len()
    );

    let current_year = Utc::now().year();
    let lookback_years = coauthorship_lookback_years(current_year);
    let expected = timings.step("count conflicts in the file", || {
        Ok(count::count_conflicts(
            &dataset,
            current_year - lookback_years,
        ))
    })?;

    let binary = match options.target {
        Target::Server { .. } => None,
        _ => Some(timings.step("build referee", || {
            schemathesis::build_referee(workspace, options.release)
        })?),
    };
    let server = timings.step("start the server", || {
        RunningServer::start(options, workspace, binary.as_deref(), tag.as_deref())
    })?;
    let settings = workflow::Settings {
        tag: tag.clone(),
        lookback_years,
        seed: options.seed,
        accept_share: options.accept_share,
        decline_share: options.decline_share,
        reviewers_per_proposal: options.reviewers_per_proposal,
        max_assignments: options.max_assignments,
    };
    let results = workflow::run(&server.api, &dataset, &settings, &mut timings)?;
    let report = timings.step("read the results", || {
        summary::collect(&server.api, &dataset, &results)
    })?;
    timings.total = started.elapsed();

    println!();
    println!(
        "demo summary: {} submissions, {} reviewers, server {}",
        dataset.submissions.len(),
        dataset.people.len(),
        server.description
    );
    let outcome = summary::print(&report, &dataset, &expected, &results, &timings);
    if let Some(log) = &server.log {
        println!("  server log: {}", log.display());
    }
    Ok(outcome)
}

/// Returns a tag that makes the names of this run unique: the current Unix time in
/// milliseconds, in base 36.
fn run_tag() -> String {
    let mut milliseconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut tag = Vec::new();
    while milliseconds > 0 {
        tag.push(digits[(milliseconds % 36) as usize]);
        milliseconds /= 36;
    }
    tag.reverse();
    String::from_utf8(tag).unwrap_or_default()
}

/// Wall time of each step, in order.
#[derive(Debug, Default)]
pub struct Timings {
    pub steps: Vec<(String, Duration)>,
    pub total: Duration,
}

impl Timings {
    /// Runs a step, prints its start and end on standard error and records its wall time.
    pub fn step<T>(&mut self, name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("demo: {name} …");
        let started = Instant::now();
        let result = work().with_context(|| format!("step `{name}` failed"))?;
        let elapsed = started.elapsed();
        eprintln!("demo: {name}: done in {:.1} s", elapsed.as_secs_f64());
        self.steps.push((name.to_owned(), elapsed));
        Ok(result)
    }
}

/// The server of a run and what it needs to stay up: dropping it stops what the demo
/// started.
struct RunningServer {
    api: Api,
    description: String,
    log: Option<PathBuf>,
    _server: Option<Server>,
    _postgres: Option<database::Server>,
}

impl RunningServer {
    /// Starts the server with `binary`, or connects to the one of `--server` (which needs no
    /// binary).
    fn start(
        options: &Options,
        workspace: &Workspace,
        binary: Option<&Path>,
        tag: Option<&str>,
    ) -> Result<Self> {
        if let Target::Server { url, token } = &options.target {
            return Ok(RunningServer {
                api: Api::new(url, token)?,
                description: url.clone(),
                log: None,
                _server: None,
                _postgres: None,
            });
        }
        let binary = binary.context("no referee binary was built for the server")?;

        let dir = output_dir(workspace)?;
        let (database_url, postgres, description) = match &options.target {
            Target::Server { .. } => unreachable!("handled above"),
            Target::Sqlite => {
                let path = dir.join("referee.db");
                let description = format!("SQLite {}", path.display());
                (format!("sqlite://{}", path.display()), None, description)
            }
            Target::DatabaseUrl(url) => {
                let description = match url::Url::parse(url) {
                    Ok(parsed) => database::redact(&parsed),
                    Err(_) => "the given database URL".to_owned(),
                };
                (url.clone(), None, description)
            }
            Target::Postgres { pg_bindir } => {
                let server = database::obtain_server(&ServerOptions {
                    database_url: None,
                    pg_bindir: pg_bindir.clone(),
                    keep: false,
                })?;
                let url = database::create_database(&server, POSTGRES_DATABASE)?;
                let description = format!("PostgreSQL {}", server.description);
                (url.to_string(), Some(server), description)
            }
        };

        schemathesis::migrate(binary, &database_url)?;
        let staff = match tag {
            Some(tag) => format!("demo-staff+{tag}"),
            None => "demo-staff".to_owned(),
        };
        let token = schemathesis::create_staff_user(binary, &database_url, &staff)?;
        let log = dir.join("server.log");
        // Computing the affinities and generating the assignments of the whole file take
        // longer than the default request timeout of 60 s. The store's info lines time the
        // affinity scoring and the detection job.
        let server = Server::start(
            binary,
            &database_url,
            &log,
            &[
                "--request-timeout-secs",
                "0",
                "--log",
                "warn,referee_store=info",
            ],
        )?;
        let profile = if options.release { "release" } else { "debug" };
        Ok(RunningServer {
            api: Api::new(&server.base_url(), &token)?,
            description: format!("{profile} build on {description}"),
            log: Some(log),
            _server: Some(server),
            _postgres: postgres,
        })
    }
}

/// Creates `<target dir>/demo` and removes the SQLite files of an earlier run from it. The
/// database and the server log of a run stay there afterwards.
fn output_dir(workspace: &Workspace) -> Result<PathBuf> {
    let dir = workspace.target_dir().join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    for name in ["referee.db", "referee.db-wal", "referee.db-shm"] {
        conformance::remove_if_present(&dir.join(name))?;
    }
    Ok(dir)
}
