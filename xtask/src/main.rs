//! Developer tasks for the referee workspace, run as `cargo xtask <task>`.

mod bench;
mod bench_api;
mod conformance;
mod database;
mod demo;
#[cfg(feature = "docker")]
mod docker;
mod interrupt;
mod local_cluster;
mod openapi;
mod python;
mod report;
mod schemathesis;
mod workspace;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::conformance::ConformanceArgs;
use crate::workspace::Workspace;

#[derive(Debug, Parser)]
#[command(
    bin_name = "cargo xtask",
    about = "Developer tasks for the referee workspace"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the whole test suite against PostgreSQL and SQLite.
    ///
    /// Obtains a PostgreSQL server (--database-url, else testcontainers when xtask is built with
    /// the `docker` feature and a Docker endpoint exists, else a throwaway cluster from the local
    /// PostgreSQL binaries), creates and migrates the template database referee_template, and
    /// runs `cargo nextest run --workspace` with TEST_DATABASE_URL set to the template and
    /// REFEREE_REQUIRE_POSTGRES=1. Every PostgreSQL test clones the template. The server is
    /// stopped afterwards, also after a failure, a panic, Ctrl-C or SIGTERM. The tests append
    /// every operation they exercise to <target dir>/conformance/operations.txt, and without
    /// extra nextest arguments the run fails when an operation of openapi/openapi.json has no
    /// 2xx reply in the suite. Then schemathesis and the published Python client run against
    /// a live server (skip them with --skip-schemathesis and --skip-waldur-client), and the
    /// demo runs on 40 submissions on both backends (--skip-demo). The report counts the tests
    /// per backend (names ending in ::sqlite or ::postgres), lists uncovered operations and
    /// the results of those steps, and ends with the line `N passed, M failed` for the tests.
    /// Exits non-zero when a test, the coverage check or one of those steps fails.
    Conformance(ConformanceArgs),

    /// Regenerate openapi/openapi.json with `referee openapi`.
    Openapi,

    /// Run benchmarks; `cargo xtask bench solver --help` and `cargo xtask bench api --help` list
    /// the options.
    Bench(bench::BenchArgs),

    /// Build a call from the ICLR 2018 submissions and run it through the HTTP API.
    ///
    /// Starts a server (SQLite by default), imports every submission as a proposal and every
    /// author as a reviewer with their papers, computes affinities, detects conflicts,
    /// generates and sends assignments, lets a seeded share of the reviewers accept and
    /// decline, and reassigns the declined items. The summary lists the items by status,
    /// the loads, the affinities, the conflicts against a count from the raw file and the
    /// wall time of each step. Exits non-zero when an item or suggestion crosses a blocking
    /// conflict of interest or the detected own-paper and co-author conflicts differ from
    /// the count.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = interrupt::install_handler() {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }

    let result = run(cli);

    if interrupt::requested() {
        eprintln!("xtask: stopped by a signal");
        return ExitCode::from(interrupt::INTERRUPTED_EXIT_CODE as u8);
    }
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let workspace = Workspace::locate()?;
    match cli.task {
        Task::Conformance(args) => conformance::run(args, &workspace),
        Task::Bench(args) => bench::run(args, &workspace),
        Task::Demo(args) => demo::run(args, &workspace),
        Task::Openapi => {
            openapi::run(&workspace)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
