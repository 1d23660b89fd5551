//! `cargo xtask bench api`: loads a large generated call into PostgreSQL and SQLite, drives
//! the release server on loopback with the load driver of [`load`], counts the SQL statements
//! of each request, runs the equivalent SQL with pgbench, and writes the "API" section of
//! docs/benchmarks.md.

mod cpu;
mod data;
mod database;
mod load;
mod pgbench;
mod report;
mod server;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use reqwest::Method;
use uuid::Uuid;

use self::cpu::{CpuPerRequest, CpuSnapshot};
use self::data::{Dialect, Sizes};
use self::database::BenchDatabase;
use self::load::{LoadResult, Request};
use self::pgbench::PgbenchResult;
use self::server::Server;
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Use the small size (2,000 proposals, 500 reviewers, 100,000 items) that finishes in
    /// about two minutes.
    #[arg(long)]
    quick: bool,

    /// Run only this backend.
    #[arg(long, value_name = "BACKEND", value_parser = ["postgres", "sqlite"])]
    only: Option<String>,

    /// PostgreSQL server URL with the right to create databases; the benchmark drops and
    /// creates the database `referee_bench_api` on it.
    #[arg(
        long,
        value_name = "URL",
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:55440/postgres"
    )]
    postgres_url: String,

    /// Print the report without writing docs/benchmarks.md. Runs with --quick or --only never
    /// write it.
    #[arg(long)]
    no_write: bool,
}

/// Workloads in the order they run. Each reads or changes distinct rows, so the order only
/// matters for accept and decline, which change the sent batches.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "list_call_status",
        description: "GET items of the call with status=pending, o=-affinity_score, page_size=100, pages 1 to 10",
        clients: 8,
    },
    Workload {
        name: "list_reviewer",
        description: "GET items of one reviewer (reviewer_uuid), page_size=100",
        clients: 8,
    },
    Workload {
        name: "head_count",
        description: "HEAD items of the call with status=pending (X-Result-Count)",
        clients: 8,
    },
    Workload {
        name: "retrieve",
        description: "GET one item",
        clients: 8,
    },
    Workload {
        name: "accept",
        description: "POST accept, each reviewer on its own pending items",
        clients: 64,
    },
    Workload {
        name: "decline",
        description: "POST decline, each reviewer on its own pending items",
        clients: 64,
    },
    Workload {
        name: "suggest_alternatives",
        description: "GET suggest_alternatives of a declined item",
        clients: 8,
    },
    Workload {
        name: "generate_assignments",
        description: "POST generate-assignments on the fresh call",
        clients: 1,
    },
];

#[derive(Debug, Clone, Copy)]
struct Workload {
    name: &'static str,
    description: &'static str,
    clients: usize,
}

/// Everything measured for one workload on one backend.
#[derive(Debug, Clone)]
pub struct WorkloadOutcome {
    pub name: &'static str,
    pub description: &'static str,
    pub load: LoadResult,
    /// SQL statements per request, from the counting server run.
    pub statements: Option<f64>,
    /// Peak resident set size of the server (VmHWM) after the workload, in KiB.
    pub server_peak_kib: u64,
    /// Largest sampled VmRSS during the workload, in KiB.
    pub server_sampled_kib: u64,
    /// CPU time per request of the server, PostgreSQL and the load driver.
    pub cpu: CpuPerRequest,
    pub pgbench: Option<PgbenchResult>,
    /// CPU time per transaction of PostgreSQL and pgbench during the pgbench run.
    pub pgbench_cpu: Option<CpuPerRequest>,
}

/// Everything measured on one backend.
#[derive(Debug, Clone)]
pub struct BackendOutcome {
    pub backend: &'static str,
    pub database_version: String,
    pub load_seconds: f64,
    pub generate_seconds: f64,
    pub item_count: u64,
    pub workloads: Vec<WorkloadOutcome>,
    /// Statements of a list request with page_size 10 and 100.
    pub list_statements_by_page_size: Vec<(u32, f64)>,
    pub checks: Vec<String>,
}

pub fn run(args: ApiArgs, workspace: &Workspace) -> Result<ExitCode> {
    let sizes = Sizes::new(args.quick);
    build_server(workspace)?;
    let started = Instant::now();
    let binary = workspace.target_dir().join("release/referee");
    let scratch = workspace.target_dir().join("bench-api");
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("failed to create {}", scratch.display()))?;

    let mut outcomes = Vec::new();
    for backend in ["postgres", "sqlite"] {
        if args.only.as_deref().is_some_and(|only| only != backend) {
            continue;
        }
        let database = match backend {
            "postgres" => BenchDatabase::postgres(&args.postgres_url)?,
            _ => BenchDatabase::sqlite(&scratch.join("referee.db"))?,
        };
        println!("bench api: {backend}");
        outcomes.push(run_backend(backend, &database, &binary, &scratch, &sizes)?);
    }

    // The findings and docs/benchmarks.md describe the full-size run of both backends; a
    // smaller or one-backend run would contradict them, so it only prints its tables.
    let full = !args.quick && args.only.is_none();
    let command = command_line();
    let text = report::render(
        &command,
        &sizes,
        &outcomes,
        started.elapsed().as_secs_f64(),
        full,
    )?;
    println!("{text}");
    if !full {
        println!(
            "bench api: docs/benchmarks.md not written; only a full-size run of both backends writes it"
        );
    } else if !args.no_write {
        let path = workspace.root.join("docs/benchmarks.md");
        report::write_section(&path, &text)?;
        println!("bench api: wrote the API section of {}", path.display());
    }
    let failed = outcomes
        .iter()
        .flat_map(|outcome| &outcome.workloads)
        .any(|workload| workload.load.failures > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn command_line() -> String {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", arguments.join(" "))
}

fn build_server(workspace: &Workspace) -> Result<()> {
    eprintln!("bench api: building the referee server in release mode");
    let status = workspace
        .cargo()
        .args([
            "build",
            "--release",
            "--locked",
            "--package",
            "referee-server",
        ])
        .status()
        .context("failed to run cargo build --release --package referee-server")?;
    if !status.success() {
        bail!("cargo build --release --package referee-server failed with {status}");
    }
    Ok(())
}

/// Identifiers of the loaded data that the workloads address.
struct Loaded {
    staff_token: String,
    call_uuid: Uuid,
    fresh_call_uuid: Uuid,
    counting_call_uuid: Uuid,
    /// Reviewer profile UUIDs by reviewer number.
    profiles: Vec<Uuid>,
}

fn run_backend(
    backend: &'static str,
    database: &BenchDatabase,
    binary: &Path,
    scratch: &Path,
    sizes: &Sizes,
) -> Result<BackendOutcome> {
    let url = database.url();
    run_referee(binary, url, &["migrate"])?;
    let staff_token = run_referee(
        binary,
        url,
        &["users", "create", "--username", "bench-admin", "--staff"],
    )?
    .trim()
    .to_owned();

    let load_started = Instant::now();
    let call_uuid = import(
        binary,
        url,
        scratch,
        "large",
        &data::large_call_document(sizes),
    )?;
    let fresh_call_uuid = import(
        binary,
        url,
        scratch,
        "fresh",
        &data::fresh_call_document(sizes, "Bench fresh call", "bench-f"),
    )?;
    let counting_call_uuid = import(
        binary,
        url,
        scratch,
        "counting",
        &data::fresh_call_document(sizes, "Bench counting call", "bench-g"),
    )?;
    let load_seconds = load_started.elapsed().as_secs_f64();
    println!("  imported the calls in {load_seconds:.1} s");

    let generate_started = Instant::now();
    let dialect = match backend {
        "postgres" => Dialect::Postgres,
        _ => Dialect::Sqlite,
    };
    database.run_script(
        &data::generation_script(dialect, call_uuid, sizes),
        &scratch.join(format!("generate-{backend}.sql")),
    )?;
    let generate_seconds = generate_started.elapsed().as_secs_f64();
    println!(
        "  generated {} items in {generate_seconds:.1} s",
        sizes.items()
    );

    let profiles = database
        .query_column(&format!(
            "SELECT p.uuid FROM call_reviewer_pools e JOIN reviewer_profiles p ON p.uuid = e.reviewer_uuid \
             JOIN users u ON u.uuid = p.user_uuid WHERE e.call_uuid = {} ORDER BY u.username",
            database.uuid_literal(call_uuid)
        ))?
        .iter()
        .map(|text| Uuid::parse_str(text).with_context(|| format!("invalid profile UUID {text:?}")))
        .collect::<Result<Vec<_>>>()?;
    let loaded = Loaded {
        staff_token,
        call_uuid,
        fresh_call_uuid,
        counting_call_uuid,
        profiles,
    };

    // Statement counts come from a separate server run that logs every statement, so that
    // logging does not slow down the measured run.
    let log_path = scratch.join(format!("statements-{backend}.log"));
    let counting = Server::start(binary, url, Some(&log_path))?;
    let mut checks = verify_counts(&counting.base_url, &loaded, sizes)?;
    let (statements, list_statements_by_page_size) =
        count_statements(&counting, &log_path, &loaded, sizes)?;
    counting.stop()?;

    let server = Server::start(binary, url, None)?;
    let mut workloads = Vec::new();
    for workload in WORKLOADS {
        let requests = requests_for(workload.name, &loaded, sizes);
        let sampler = server.sample_rss();
        let cpu_before = CpuSnapshot::take(Some(server.pid()))?;
        let result = load::run(&server.base_url, requests, workload.clients)?;
        let cpu =
            CpuSnapshot::take(Some(server.pid()))?.per_request_since(&cpu_before, result.requests);
        let sampled = sampler.finish();
        let peak = server.peak_kib()?;
        println!(
            "  {}: {} requests, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} failed, server peak {} MiB",
            workload.name,
            result.requests,
            result.throughput(),
            result.percentile_ms(50.0),
            result.percentile_ms(99.0),
            result.failures,
            peak / 1024
        );
        if let Some(failure) = &result.first_failure {
            println!("    first failure: {failure}");
        }
        workloads.push(WorkloadOutcome {
            name: workload.name,
            description: workload.description,
            load: result,
            statements: statements
                .iter()
                .find(|(name, _)| *name == workload.name)
                .map(|(_, count)| *count),
            server_peak_kib: peak,
            server_sampled_kib: sampled,
            cpu,
            pgbench: None,
            pgbench_cpu: None,
        });
    }
    server.stop()?;
    checks.extend(verify_reviews(database, call_uuid)?);

    if backend == "postgres" {
        run_pgbench(database, &loaded, sizes, scratch, &mut workloads)?;
    }

    let version_query = match backend {
        "postgres" => "SHOW server_version",
        _ => "SELECT sqlite_version()",
    };
    let database_version = database
        .query_column(version_query)?
        .into_iter()
        .next()
        .unwrap_or_default();

    Ok(BackendOutcome {
        backend,
        database_version,
        load_seconds,
        generate_seconds,
        item_count: sizes.items(),
        workloads,
        list_statements_by_page_size,
        checks,
    })
}

/// Runs the referee command line and returns its standard output.
fn run_referee(binary: &Path, url: &str, arguments: &[&str]) -> Result<String> {
    let output = std::process::Command::new(binary)
        .args(arguments)
        .env("REFEREE_DATABASE_URL", url)
        .env("REFEREE_LOG", "warn")
        .output()
        .with_context(|| format!("failed to run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "referee {} failed with {}: {}",
            arguments.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Writes an import document and imports it with `referee import`, returning the call UUID.
fn import(
    binary: &Path,
    url: &str,
    scratch: &Path,
    name: &str,
    document: &serde_json::Value,
) -> Result<Uuid> {
    let path = scratch.join(format!("import-{name}.json"));
    std::fs::write(&path, serde_json::to_vec(document)?)
        .with_context(|| format!("failed to write {}", path.display()))?;
    let path_text = path.to_string_lossy().into_owned();
    let output = run_referee(binary, url, &["import", &path_text])?;
    let counts: serde_json::Value =
        serde_json::from_str(&output).context("referee import printed invalid JSON")?;
    let call = counts["call_uuid"]
        .as_str()
        .context("referee import printed no call_uuid")?;
    Uuid::parse_str(call).with_context(|| format!("invalid call UUID {call:?}"))
}

fn items_path(query: &str) -> String {
    format!("/api/assignment-items/?{query}")
}

/// Deterministic pseudo-random numbers for picking pages, reviewers and items.
fn pick(seed: u64, bound: u64) -> u64 {
    let mut mixed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (mixed ^ (mixed >> 31)) % bound
}

fn requests_for(workload: &str, loaded: &Loaded, sizes: &Sizes) -> Vec<Request> {
    let staff = &loaded.staff_token;
    let count = sizes.read_requests;
    let call = loaded.call_uuid.simple();
    match workload {
        "list_call_status" => (0..count)
            .map(|index| {
                let page = pick(index, 10) + 1;
                Request::get(
                    items_path(&format!(
                        "call_uuid={call}&status=pending&o=-affinity_score&page_size=100&page={page}"
                    )),
                    staff,
                )
            })
            .collect(),
        "list_reviewer" => (0..count)
            .map(|index| {
                let reviewer = pick(index, loaded.profiles.len() as u64) as usize;
                Request::get(
                    items_path(&format!(
                        "reviewer_uuid={}&page_size=100",
                        loaded.profiles[reviewer].simple()
                    )),
                    staff,
                )
            })
            .collect(),
        "head_count" => (0..count)
            .map(|_| Request {
                method: Method::HEAD,
                path: items_path(&format!("call_uuid={call}&status=pending")),
                token: staff.clone(),
                body: None,
            })
            .collect(),
        "retrieve" => (0..count)
            .map(|index| {
                let reviewer = pick(index, sizes.reviewers);
                let position = pick(index + count, 45);
                let uuid = data::item_uuid(reviewer, 3, position);
                Request::get(format!("/api/assignment-items/{}/", uuid.simple()), staff)
            })
            .collect(),
        "accept" => answers(sizes, data::ACCEPT_POSITIONS, "accept", None),
        "decline" => answers(
            sizes,
            data::DECLINE_POSITIONS,
            "decline",
            Some(r#"{"reason": "No time this month."}"#),
        ),
        "suggest_alternatives" => (0..sizes.suggest_requests)
            .map(|index| {
                let reviewer = pick(index, sizes.reviewers);
                let range = data::DECLINED_POSITIONS;
                let position = range.start + pick(index + 1_000_000, range.end - range.start);
                let uuid = data::item_uuid(reviewer, 1, position);
                Request::get(
                    format!("/api/assignment-items/{}/suggest_alternatives/", uuid.simple()),
                    staff,
                )
            })
            .collect(),
        _ => vec![generate_request(loaded.fresh_call_uuid, staff)],
    }
}

fn generate_request(call_uuid: Uuid, token: &str) -> Request {
    Request {
        method: Method::POST,
        path: format!(
            "/api/proposal-protected-calls/{}/generate-assignments/",
            call_uuid.simple()
        ),
        token: token.to_owned(),
        body: Some("{}".to_owned()),
    }
}

/// Returns the accept or decline requests of every answering reviewer, interleaved so that
/// the 64 clients work on different reviewers at any time.
fn answers(
    sizes: &Sizes,
    positions: std::ops::Range<u64>,
    action: &str,
    body: Option<&str>,
) -> Vec<Request> {
    let mut requests = Vec::new();
    for position in positions {
        for reviewer in 0..sizes.answering_reviewers {
            let uuid = data::item_uuid(reviewer, 0, position);
            requests.push(Request {
                method: Method::POST,
                path: format!("/api/assignment-items/{}/{action}/", uuid.simple()),
                token: data::reviewer_token(reviewer),
                body: Some(body.unwrap_or("{}").to_owned()),
            });
        }
    }
    requests
}

/// Checks the generated data through the API: HEAD counts per status.
fn verify_counts(base_url: &str, loaded: &Loaded, sizes: &Sizes) -> Result<Vec<String>> {
    let call = loaded.call_uuid.simple();
    let reviewers = sizes.reviewers;
    let expected = [
        ("", sizes.items()),
        ("&status=pending", reviewers * 75),
        ("&status=accepted", reviewers * 35),
        ("&status=declined", reviewers * 25),
        ("&status=reassigned", reviewers * 10),
        ("&status=expired", reviewers * 50),
        ("&status=coi_blocked", reviewers * 5),
    ];
    let mut checks = Vec::new();
    for (filter, count) in expected {
        let path = items_path(&format!("call_uuid={call}{filter}"));
        let actual = load::head_count(base_url, &path, &loaded.staff_token)?;
        if actual != count {
            bail!(
                "HEAD {path} counted {actual} items, expected {count}; the generated data is wrong"
            );
        }
        checks.push(format!(
            "HEAD /api/assignment-items/?call_uuid=…{filter} = {actual}"
        ));
    }
    Ok(checks)
}

/// Checks that every accepted item of the call has exactly one review and no review lacks
/// its item.
fn verify_reviews(database: &BenchDatabase, call_uuid: Uuid) -> Result<Vec<String>> {
    let call = database.uuid_literal(call_uuid);
    let accepted = database.query_number(&format!(
        "SELECT count(*) FROM assignment_items WHERE call_uuid = {call} AND status = 'accepted'"
    ))?;
    let linked = database.query_number(&format!(
        "SELECT count(DISTINCT review_uuid) FROM assignment_items WHERE call_uuid = {call} AND status = 'accepted'"
    ))?;
    let reviews = database.query_number(&format!(
        "SELECT count(*) FROM proposal_reviews WHERE call_uuid = {call}"
    ))?;
    if accepted != linked || accepted != reviews {
        bail!(
            "after the run the call has {accepted} accepted items, {linked} distinct linked reviews and \
             {reviews} reviews; every accepted item must have exactly one review"
        );
    }
    Ok(vec![format!(
        "after the run: {accepted} accepted items, {linked} distinct linked reviews, {reviews} reviews in the call"
    )])
}

/// Statements per request by workload name.
type WorkloadStatements = Vec<(&'static str, f64)>;

/// Statements of one list request by page size.
type PageSizeStatements = Vec<(u32, f64)>;

/// Sends a few requests of each workload one at a time to the logging server and returns
/// the statements per request, and the statements of a list request by page size.
fn count_statements(
    server: &Server,
    log_path: &Path,
    loaded: &Loaded,
    sizes: &Sizes,
) -> Result<(WorkloadStatements, PageSizeStatements)> {
    let count_one = |request: &Request| -> Result<u64> {
        let before = statements_logged(log_path)?;
        let (status, _, body) = load::send_one(&server.base_url, request)?;
        if !(200..300).contains(&status) {
            bail!(
                "{} {} returned {status} while counting statements: {body}",
                request.method,
                request.path
            );
        }
        // The server logs each statement before it replies; a short wait lets the log file
        // catch up with the write.
        std::thread::sleep(std::time::Duration::from_millis(50));
        Ok(statements_logged(log_path)? - before)
    };

    let mut counts = Vec::new();
    for workload in WORKLOADS {
        let requests: Vec<Request> = match workload.name {
            "accept" => answers(
                sizes,
                data::COUNTING_POSITIONS.start..data::COUNTING_POSITIONS.start + 2,
                "accept",
                None,
            )
            .into_iter()
            .take(3)
            .collect(),
            "decline" => answers(
                sizes,
                data::COUNTING_POSITIONS.start + 2..data::COUNTING_POSITIONS.end,
                "decline",
                Some("{}"),
            )
            .into_iter()
            .take(3)
            .collect(),
            // NOTE: at full size (2,000 proposals x 600 reviewers) this request logged 3.4 GB
            // of statements and ran for more than 6 minutes before the run was stopped, so
            // full-size runs do not finish yet; a smaller counting call would fix that.
            "generate_assignments" => vec![generate_request(
                loaded.counting_call_uuid,
                &loaded.staff_token,
            )],
            name => requests_for(name, loaded, sizes)
                .into_iter()
                .take(3)
                .collect(),
        };
        let mut total = 0;
        for request in &requests {
            total += count_one(request)?;
        }
        counts.push((workload.name, total as f64 / requests.len() as f64));
    }

    let call = loaded.call_uuid.simple();
    let mut by_page_size = Vec::new();
    for page_size in [10u32, 100, 300] {
        let request = Request::get(
            items_path(&format!(
                "call_uuid={call}&status=pending&o=-affinity_score&page_size={page_size}"
            )),
            &loaded.staff_token,
        );
        by_page_size.push((page_size, count_one(&request)? as f64));
    }
    Ok((counts, by_page_size))
}

fn statements_logged(log_path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(log_path)
        .with_context(|| format!("failed to read {}", log_path.display()))?;
    Ok(text.matches("statement started").count() as u64)
}

fn run_pgbench(
    database: &BenchDatabase,
    loaded: &Loaded,
    sizes: &Sizes,
    scratch: &Path,
    workloads: &mut [WorkloadOutcome],
) -> Result<()> {
    database.run_script(
        &pgbench::setup_sql(loaded.call_uuid),
        &scratch.join("pgbench-setup.sql"),
    )?;
    let digest = data::token_digest(&loaded.staff_token);
    let context = pgbench::ScriptContext {
        call_uuid: loaded.call_uuid,
        staff_digest: &digest,
        sizes,
    };
    let log_dir: PathBuf = scratch.join("pgbench");
    std::fs::create_dir_all(&log_dir)?;
    for workload in workloads.iter_mut() {
        let Some(script) = pgbench::script(workload.name, &context) else {
            continue;
        };
        let cpu_before = CpuSnapshot::take(None)?;
        let result = pgbench::run(
            database.url(),
            &script,
            workload.name,
            workload.load.clients,
            workload.load.requests,
            &log_dir,
        )?;
        println!(
            "  pgbench {}: {} transactions, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
            workload.name, result.transactions, result.throughput, result.p50_ms, result.p99_ms
        );
        workload.pgbench_cpu =
            Some(CpuSnapshot::take(None)?.per_request_since(&cpu_before, result.transactions));
        workload.pgbench = Some(result);
    }
    Ok(())
}
