//! `cargo xtask conformance`: the whole test suite against PostgreSQL and SQLite.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus};

use anyhow::{Context, Result, bail};
use clap::Args;
use url::Url;

use crate::database::{self, ServerOptions, TEMPLATE_DATABASE};
use crate::demo;
use crate::interrupt;
use crate::report::{Group, OperationCoverage, TestResults};
use crate::schemathesis;
use crate::workspace::Workspace;

/// nextest profile defined by the tool config below. Its JUnit report is how the results are
/// counted, so the run always uses this profile.
const NEXTEST_PROFILE: &str = "xtask-conformance";

/// Tool config layered under the repository's `.config/nextest.toml`. The profile inherits
/// everything else from the repository's default profile.
const NEXTEST_TOOL_CONFIG: &str = r#"[profile.xtask-conformance]
fail-fast = false

[profile.xtask-conformance.junit]
path = "junit.xml"
"#;

/// Committed OpenAPI document, relative to the workspace root. The suite's own test checks that
/// it matches the code, so the coverage check can list its operations.
const OPENAPI_PATH: &str = "openapi/openapi.json";

/// Environment variable that makes the conformance tests append every exercised operation to
/// a file (tests/src/contract.rs).
const COVERAGE_FILE_VARIABLE: &str = "REFEREE_COVERAGE_FILE";

/// Database that the demo step creates on the run's PostgreSQL server and drops afterwards.
const DEMO_DATABASE: &str = "referee_conformance_demo";

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// URL of a PostgreSQL server to use instead of starting one, for example
    /// postgres://postgres@127.0.0.1:5432/postgres. Its database is used for maintenance
    /// statements, and the template database referee_template is dropped if it exists, created
    /// there, and dropped again after the run. The user needs the CREATEDB privilege.
    #[arg(
        long,
        env = "CONFORMANCE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// Directory with initdb, pg_ctl and psql for the throwaway cluster [default: the output of
    /// `pg_config --bindir`].
    #[arg(long, env = "PG_BINDIR", value_name = "DIR")]
    pg_bindir: Option<PathBuf>,

    /// Leave the PostgreSQL server (local cluster or container) and the template database
    /// running after the run, and print the template URL and how to stop the server.
    #[arg(long)]
    keep_database: bool,

    /// Skip schemathesis. By default, after the tests, schemathesis (PyPI, pinned in
    /// xtask/scripts/requirements-schemathesis.txt and installed into
    /// <target dir>/conformance/venv) runs against a live server on a loopback port with a new
    /// SQLite database and seeded data: as a reviewer, as staff, and as staff on DELETE. It
    /// fails on a 5xx response, a status the OpenAPI document does not list for the operation,
    /// or a body that violates its schema. Reports go to <target dir>/conformance/schemathesis/.
    /// Needs python3 with venv and access to PyPI on the first run.
    #[arg(long)]
    skip_schemathesis: bool,

    /// Maximum number of generated test cases per operation and phase in the schemathesis step.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    schemathesis_examples: u32,

    /// Random seed of the schemathesis step; the same seed generates the same requests.
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    schemathesis_seed: u64,

    /// Skip the published-client scenario. By default, after the tests, the assignment
    /// workflow runs through the published Python client waldur-api-client (PyPI, pinned in
    /// xtask/scripts/requirements-waldur-client.txt) against a live server with a new SQLite
    /// database. A step whose response the client cannot parse fails, except the known
    /// defects of the client's own schema (review_uuid null before accept), which are listed
    /// with the reason after their raw JSON was checked; the findings go to
    /// <target dir>/conformance/waldur-client/findings.json.
    #[arg(long)]
    skip_waldur_client: bool,

    /// Skip the demo. By default, after the tests, `cargo xtask demo --sample 40` runs on a
    /// new database of the run's PostgreSQL server and on a new SQLite database: the first 40
    /// ICLR 2018 submissions go through import, affinities, conflict detection, generation,
    /// answers and reassignment. It fails when an assignment or suggestion crosses a blocking
    /// conflict of interest or the detected own-paper and co-author conflicts differ from a
    /// count from the submissions file. Without that file (REFEREE_DEMO_DATA or the default
    /// path of `cargo xtask demo`) the step is skipped with a note.
    #[arg(long)]
    skip_demo: bool,

    /// Extra arguments for `cargo nextest run`, given after `--`, for example
    /// `cargo xtask conformance -- -E 'test(/::postgres$/)'`. `--profile` is not allowed,
    /// because the run needs its own profile for the JUnit report.
    #[arg(last = true, value_name = "NEXTEST_ARGS")]
    nextest_args: Vec<String>,
}

/// Outcome of the part of the run that needs the database server.
struct RunOutcome {
    database: String,
    nextest_status: ExitStatus,
    results: Option<TestResults>,
    /// `None` when nextest ran with extra arguments, which may filter out tests.
    coverage: Option<OperationCoverage>,
    kept_notes: Vec<String>,
    demo: DemoStep,
}

/// Result of the demo on one backend: `None` when the step did not run (skipped by
/// --skip-demo or for lack of the submissions file).
type DemoStep = Option<Result<demo::Outcome>>;

pub fn run(args: ConformanceArgs, workspace: &Workspace) -> Result<ExitCode> {
    if let Some(arg) = args
        .nextest_args
        .iter()
        .find(|arg| *arg == "-P" || *arg == "--profile" || arg.starts_with("--profile="))
    {
        bail!(
            "`{arg}` is not allowed: the conformance run uses its own nextest profile {NEXTEST_PROFILE}"
        );
    }

    // Every guard inside run_with_database has stopped the server by the time it returns, so
    // the messages of the shutdown come before the report and the report ends the output.
    let outcome = run_with_database(&args, workspace)?;
    let schemathesis = if !args.skip_schemathesis {
        let options = schemathesis::Options {
            max_examples: args.schemathesis_examples,
            seed: args.schemathesis_seed,
        };
        let result =
            output_dir(workspace).and_then(|dir| schemathesis::run(workspace, &dir, &options));
        interrupt::check()?;
        Some(result)
    } else {
        None
    };
    let client = if !args.skip_waldur_client {
        let result = output_dir(workspace)
            .and_then(|dir| crate::python::run_client_scenario(workspace, &dir));
        interrupt::check()?;
        Some(result)
    } else {
        None
    };
    let sqlite_demo: DemoStep = if args.skip_demo {
        None
    } else {
        let result = demo::conformance_data(workspace)
            .map(|data| demo::run_sample(workspace, data, demo::Target::Sqlite));
        interrupt::check()?;
        result
    };
    print_report(&outcome);
    print_schemathesis(schemathesis.as_ref());
    print_client(client.as_ref());
    print_demo("PostgreSQL", &outcome.demo);
    print_demo("SQLite", &sqlite_demo);
    print_totals(&outcome);

    let failed = outcome
        .results
        .as_ref()
        .is_none_or(|results| results.total().failed > 0);
    let uncovered = outcome
        .coverage
        .as_ref()
        .is_some_and(|coverage| !coverage.complete());
    let schemathesis_failed = schemathesis.as_ref().is_some_and(|result| {
        result
            .as_ref()
            .map_or(true, |runs| runs.iter().any(|run| !run.passed))
    });
    let client_failed = client
        .as_ref()
        .is_some_and(|result| result.as_ref().map_or(true, |client| !client.passed));
    let demo_failed = [&outcome.demo, &sqlite_demo].into_iter().any(|step| {
        step.as_ref()
            .is_some_and(|result| result.as_ref().map_or(true, |demo| !demo.passed))
    });
    if failed
        || uncovered
        || schemathesis_failed
        || client_failed
        || demo_failed
        || !outcome.nextest_status.success()
    {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_with_database(args: &ConformanceArgs, workspace: &Workspace) -> Result<RunOutcome> {
    let options = ServerOptions {
        database_url: args.database_url.clone(),
        pg_bindir: args.pg_bindir.clone(),
        keep: args.keep_database,
    };
    let server = database::obtain_server(&options)?;
    eprintln!("using PostgreSQL: {}", server.description);

    // On the developer's own server the template is the only thing this run leaves behind.
    let drop_template = options.database_url.is_some() && !options.keep;
    let template = database::create_template(&server, drop_template)?;

    migrate(workspace, &template.url)?;
    let coverage_path = output_dir(workspace)?.join("operations.txt");
    let (nextest_status, results) =
        run_nextest(workspace, &template.url, &coverage_path, &args.nextest_args)?;

    // Extra nextest arguments may filter the tests, and a partial run covers fewer operations.
    let coverage = if args.nextest_args.is_empty() {
        Some(OperationCoverage::read(
            &workspace.root.join(OPENAPI_PATH),
            &coverage_path,
        )?)
    } else {
        eprintln!("operation coverage is not checked because nextest ran with extra arguments");
        None
    };

    let demo = if args.skip_demo {
        None
    } else {
        demo::conformance_data(workspace).map(|data| run_demo_on(&server, workspace, data))
    };
    interrupt::check()?;

    let mut kept_notes = server.kept_notes.clone();
    if options.keep {
        kept_notes.insert(0, format!("template database: {}", template.url));
    }
    Ok(RunOutcome {
        database: server.description.clone(),
        nextest_status,
        results,
        coverage,
        kept_notes,
        demo,
    })
}

/// Runs the demo sample on a new database of the PostgreSQL server and drops it afterwards.
fn run_demo_on(
    server: &database::Server,
    workspace: &Workspace,
    data: PathBuf,
) -> Result<demo::Outcome> {
    let url = database::create_database(server, DEMO_DATABASE)?;
    let outcome = demo::run_sample(workspace, data, demo::Target::DatabaseUrl(url.to_string()));
    if let Err(error) = database::drop_database(server, DEMO_DATABASE) {
        eprintln!("warning: failed to drop the demo database {DEMO_DATABASE}: {error:#}");
    }
    outcome
}

/// Creates and returns `<target dir>/conformance`, where the run keeps its reports.
fn output_dir(workspace: &Workspace) -> Result<PathBuf> {
    let store_dir = workspace.nextest_store_dir();
    let target_dir = store_dir
        .parent()
        .with_context(|| format!("{} has no parent directory", store_dir.display()))?;
    let dir = target_dir.join("conformance");
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    Ok(dir)
}

/// Removes a file; a file that does not exist is no error.
pub fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => {
            Err(error).with_context(|| format!("failed to remove the old {}", path.display()))
        }
    }
}

/// Runs the server's migrations into the template database.
fn migrate(workspace: &Workspace, template_url: &Url) -> Result<()> {
    eprintln!("migrating the template database {TEMPLATE_DATABASE}");
    let mut command = workspace.cargo();
    command
        .args([
            "run",
            "--locked",
            "--quiet",
            "-p",
            "referee-server",
            "--",
            "migrate",
        ])
        .env("REFEREE_DATABASE_URL", template_url.as_str());
    let status = interrupt::run(&mut command)?;
    if !status.success() {
        bail!(
            "`{}` failed with {status} while migrating {}",
            interrupt::describe(&command),
            database::redact(template_url)
        );
    }
    Ok(())
}

/// Runs the workspace tests and reads the JUnit report. Returns `None` for the results when
/// nextest wrote no report, which happens when the build fails.
fn run_nextest(
    workspace: &Workspace,
    template_url: &Url,
    coverage_path: &Path,
    extra_args: &[String],
) -> Result<(ExitStatus, Option<TestResults>)> {
    let tool_config = tempfile::Builder::new()
        .prefix("xtask-nextest-")
        .suffix(".toml")
        .tempfile()
        .context("failed to create the nextest tool config file")?;
    std::fs::write(tool_config.path(), NEXTEST_TOOL_CONFIG)
        .context("failed to write the nextest tool config file")?;

    let report_path = workspace
        .nextest_store_dir()
        .join(NEXTEST_PROFILE)
        .join("junit.xml");
    remove_if_present(&report_path)?;
    remove_if_present(coverage_path)?;

    let mut command = workspace.cargo();
    command
        .args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
        .args(["--profile", NEXTEST_PROFILE])
        .arg("--tool-config-file")
        .arg(format!("xtask:{}", tool_config.path().display()))
        .args(extra_args)
        .env("TEST_DATABASE_URL", template_url.as_str())
        .env("REFEREE_REQUIRE_POSTGRES", "1")
        .env(COVERAGE_FILE_VARIABLE, coverage_path);
    if std::env::var_os("CI").is_some() {
        // insta then fails on a changed snapshot instead of writing a .snap.new file.
        command.env("INSTA_UPDATE", "no");
    }

    eprintln!("running: {}", interrupt::describe(&command));
    let status = interrupt::run(&mut command)?;
    interrupt::check()?;

    if !report_path.exists() {
        eprintln!(
            "nextest exited with {status} and wrote no JUnit report to {}",
            report_path.display()
        );
        return Ok((status, None));
    }
    Ok((status, Some(TestResults::read(&report_path)?)))
}

fn print_report(outcome: &RunOutcome) {
    for note in &outcome.kept_notes {
        println!("{note}");
    }

    println!();
    println!("conformance report");
    println!("  database: {}", outcome.database);
    println!("  nextest:  exited with {}", outcome.nextest_status);

    let Some(results) = &outcome.results else {
        println!("  no tests ran (no JUnit report)");
        return;
    };

    for group in Group::ALL {
        let counts = results.group(group);
        println!(
            "  {:<9} {} run: {} passed, {} failed",
            format!("{group}:"),
            counts.run(),
            counts.passed,
            counts.failed
        );
    }
    if !results.failed_tests.is_empty() {
        println!("  failed tests:");
        for test in &results.failed_tests {
            println!("    {test}");
        }
    }
    print_coverage(outcome.coverage.as_ref());
}

/// Prints the closing line `N passed, M failed`, which counts the nextest tests only.
fn print_totals(outcome: &RunOutcome) {
    let Some(results) = &outcome.results else {
        println!("0 passed, 0 failed");
        return;
    };
    let total = results.total();
    if results.skipped > 0 {
        println!(
            "{} passed, {} failed, {} skipped",
            total.passed, total.failed, results.skipped
        );
    } else {
        println!("{} passed, {} failed", total.passed, total.failed);
    }
}

fn print_schemathesis(result: Option<&Result<Vec<schemathesis::RunResult>>>) {
    let Some(result) = result else {
        return;
    };
    let runs = match result {
        Ok(runs) => runs,
        Err(error) => {
            println!("  schemathesis: failed to run: {error:#}");
            return;
        }
    };
    for run in runs {
        let verdict = if run.passed { "passed" } else { "FAILED" };
        println!(
            "  schemathesis pass {}: {verdict} (log: {})",
            run.pass,
            run.log.display()
        );
        if !run.passed {
            for line in &run.summary {
                println!("    {line}");
            }
        }
    }
}

fn print_coverage(coverage: Option<&OperationCoverage>) {
    let Some(coverage) = coverage else {
        println!("  operations: not checked (nextest ran with extra arguments)");
        return;
    };
    let exercised = coverage.operations - coverage.unexercised.len();
    println!(
        "  operations: {exercised} of {} exercised by a test reply",
        coverage.operations
    );
    if !coverage.unexercised.is_empty() {
        println!("  operations that no test exercised:");
        for operation in &coverage.unexercised {
            println!("    {operation}");
        }
    }
    if !coverage.without_success.is_empty() {
        println!("  operations that no test exercised with a 2xx reply:");
        for operation in &coverage.without_success {
            println!("    {operation}");
        }
    }
}

fn print_demo(backend: &str, step: &DemoStep) {
    let Some(result) = step else {
        return;
    };
    let sample = demo::CONFORMANCE_SAMPLE;
    match result {
        Ok(outcome) => {
            let verdict = if outcome.passed { "passed" } else { "FAILED" };
            println!(
                "  demo --sample {sample} on {backend}: {verdict}: {}",
                outcome.summary
            );
        }
        Err(error) => println!("  demo --sample {sample} on {backend}: failed to run: {error:#}"),
    }
}

fn print_client(result: Option<&Result<crate::python::ClientResult>>) {
    let Some(result) = result else {
        return;
    };
    match result {
        Ok(client) => {
            let verdict = if client.passed { "passed" } else { "FAILED" };
            println!(
                "  waldur-api-client scenario: {verdict}: {} (log: {}, findings: {})",
                client.summary,
                client.log.display(),
                client.report.display()
            );
        }
        Err(error) => println!("  waldur-api-client scenario: failed to run: {error:#}"),
    }
}
