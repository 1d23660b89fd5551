//! `cargo xtask bench solver`: times referee's exact assignment solver against OR-Tools'
//! min-cost flow on generated instances and checks that both reach the same objective.
//!
//! Instances (all with 3 reviewers per proposal):
//! - `dense`: 1,000 proposals x 300 reviewers, every pair a candidate, loads 8 to 12, random
//!   affinities;
//! - `iclr2018`: the ICLR 2018 submissions with every author as a reviewer and loads 0 to 6.
//!   Every pair except an author and their own paper is a candidate. Its affinity is the
//!   TF-IDF cosine between the paper's title and abstract and those of the author's papers;
//! - `neurips`: 12,000 proposals x 13,000 reviewers, 200 random candidates per proposal,
//!   loads 0 to 6, random affinities.
//!
//! Affinities are rounded to multiples of 1e-6 first, so both solvers get the same integer
//! costs (referee scales affinities by 1e6 and rounds). Each instance is written to a binary
//! file that `xtask/scripts/ortools_min_cost_flow.py` reads in a virtual environment under
//! `target/bench-venv`, created with `pip install ortools` on first use.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use referee_domain::assignment::{AssignmentProblem, Candidate, ProposalDemand, ReviewerCapacity};
use referee_domain::solver::{AFFINITY_SCALE, SolveOptions, certificate_holds, solve};
use uuid::Uuid;

use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    target: BenchTarget,
}

#[derive(Debug, Subcommand)]
enum BenchTarget {
    /// Time the exact assignment solver against OR-Tools' min-cost flow.
    ///
    /// Builds the instances dense (1,000 x 300, all pairs), iclr2018 (the ICLR 2018
    /// submissions, TF-IDF affinities) and neurips (12,000 x 13,000, 200 candidates per
    /// proposal) deterministically and solves each in a release build. Prints the solve
    /// times, the peak resident memory and whether both objectives are equal. Exits non-zero
    /// when they differ or a solve fails.
    Solver(SolverArgs),

    /// Drive the release server with API workloads at scale and compare with pgbench.
    ///
    /// Loads a call of 20,000 proposals, 5,000 reviewers and 1,000,000 assignment items into
    /// PostgreSQL (database referee_bench_api, dropped and recreated) and SQLite (a file under
    /// the target directory), runs list, count, retrieve, accept, decline,
    /// suggest_alternatives and generate-assignments workloads, counts the SQL statements per
    /// request, runs the equivalent SQL with pgbench, and writes the API section of
    /// docs/benchmarks.md. Exits non-zero when a request fails.
    Api(crate::bench_api::ApiArgs),
}

#[derive(Debug, Args)]
struct SolverArgs {
    /// Use small instances (200 x 60, the first 200 ICLR submissions, 1,200 x 1,300).
    #[arg(long)]
    quick: bool,

    /// Solve with referee only, without OR-Tools and its virtual environment.
    #[arg(long)]
    skip_ortools: bool,

    /// Run only this instance.
    #[arg(long, value_name = "NAME", value_parser = ["dense", "iclr2018", "neurips"])]
    only: Option<String>,

    /// JSON list of ICLR 2018 submissions (objects with `title`, `abstract` and `authors`),
    /// relative to the repository root unless absolute.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "../shared/data/iclr2018.json"
    )]
    iclr_path: PathBuf,
}

pub fn run(args: BenchArgs, workspace: &Workspace) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        return rerun_in_release(workspace);
    }
    match args.target {
        BenchTarget::Solver(args) => run_solver_bench(&args, workspace),
        BenchTarget::Api(args) => crate::bench_api::run(args, workspace),
    }
}

/// Runs the same command line again from a release build, because debug timings are
/// meaningless for the solver and the load driver.
fn rerun_in_release(workspace: &Workspace) -> Result<ExitCode> {
    eprintln!("bench: building xtask in release mode and running it again");
    let status = workspace
        .cargo()
        .args(["run", "--release", "--quiet", "--package", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .status()
        .context("failed to run cargo run --release --package xtask")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One generated instance.
struct Instance {
    name: &'static str,
    description: String,
    problem: AssignmentProblem,
}

/// Times of one instance, in seconds, with peak memory in KiB. CPU times are reported next
/// to wall-clock times because other processes on the machine slow the wall clock down.
struct Outcome {
    name: &'static str,
    referee_seconds: f64,
    referee_cpu_seconds: f64,
    referee_peak_kib: u64,
    referee_objective: i64,
    ortools: Option<OrToolsOutcome>,
}

struct OrToolsOutcome {
    objective: Option<i64>,
    status: String,
    build_seconds: f64,
    solve_seconds: f64,
    build_cpu_seconds: f64,
    solve_cpu_seconds: f64,
    peak_kib: u64,
}

fn run_solver_bench(args: &SolverArgs, workspace: &Workspace) -> Result<ExitCode> {
    let python = if args.skip_ortools {
        None
    } else {
        Some(ensure_venv(workspace)?)
    };
    let script = workspace
        .root
        .join("xtask/scripts/ortools_min_cost_flow.py");
    let scratch = tempfile::tempdir().context("failed to create a directory for instance files")?;

    let names = ["dense", "iclr2018", "neurips"];
    let mut outcomes = Vec::new();
    for name in names {
        if args.only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let started = Instant::now();
        let instance = match name {
            "dense" => dense_instance(args.quick),
            "iclr2018" => iclr_instance(&workspace.root.join(&args.iclr_path), args.quick)?,
            _ => neurips_instance(args.quick),
        };
        println!(
            "{}: {} (generated in {:.1} s)",
            instance.name,
            instance.description,
            started.elapsed().as_secs_f64()
        );

        let ortools = match &python {
            Some(python) => {
                let file = scratch.path().join(format!("{name}.bin"));
                write_instance(&file, &instance.problem)?;
                Some(run_ortools(python, &script, &file)?)
            }
            None => None,
        };
        let outcome = run_referee(&instance, ortools)?;
        print_outcome(&outcome);
        outcomes.push(outcome);
    }

    print_table(&outcomes);
    let all_equal = outcomes.iter().all(|outcome| {
        outcome
            .ortools
            .as_ref()
            .is_none_or(|ortools| ortools.objective == Some(outcome.referee_objective))
    });
    if !all_equal {
        eprintln!("bench: the objectives of referee and OR-Tools differ on at least one instance");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Solves with referee's default algorithm (minmax) and checks the certificate.
fn run_referee(instance: &Instance, ortools: Option<OrToolsOutcome>) -> Result<Outcome> {
    reset_peak_memory();
    let cpu_started = thread_cpu_seconds()?;
    let started = Instant::now();
    let solved = solve(&instance.problem, &SolveOptions::default())
        .map_err(|error| anyhow::anyhow!("referee failed to solve {}: {error}", instance.name))?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds()? - cpu_started;
    let peak_kib = peak_memory_kib()?;

    let checked = Instant::now();
    if !certificate_holds(&instance.problem, &solved) {
        bail!(
            "the optimality certificate of {} was rejected",
            instance.name
        );
    }
    println!(
        "  referee: {} pairs, objective {}, solve {seconds:.2} s (CPU {cpu_seconds:.2} s), certificate check {:.2} s",
        solved.solution.chosen.len(),
        solved.objective,
        checked.elapsed().as_secs_f64()
    );
    Ok(Outcome {
        name: instance.name,
        referee_seconds: seconds,
        referee_cpu_seconds: cpu_seconds,
        referee_peak_kib: peak_kib,
        referee_objective: solved.objective,
        ortools,
    })
}

/// Resets VmHWM to the current resident size, so that the next read covers the solve only.
/// The problem itself stays resident and is counted.
fn reset_peak_memory() {
    if let Err(error) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!(
            "bench: could not reset the peak memory counter, so it includes instance generation: {error}"
        );
    }
}

/// Returns the CPU time of the calling thread, which runs the single-threaded solver, from the
/// first field of /proc/thread-self/schedstat (nanoseconds on the CPU).
fn thread_cpu_seconds() -> Result<f64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("failed to read /proc/thread-self/schedstat")?;
    let field = schedstat.split_whitespace().next().unwrap_or_default();
    let nanoseconds: u64 = field
        .parse()
        .with_context(|| format!("invalid CPU time {field:?} in /proc/thread-self/schedstat"))?;
    Ok(nanoseconds as f64 / 1e9)
}

/// Returns VmHWM, the peak resident set size of this process, in KiB.
fn peak_memory_kib() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("failed to read /proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .context("/proc/self/status has no VmHWM line")?;
    let value = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim();
    value
        .parse()
        .with_context(|| format!("invalid VmHWM value {value:?}"))
}

fn print_outcome(outcome: &Outcome) {
    let Some(ortools) = &outcome.ortools else {
        return;
    };
    let objective = ortools
        .objective
        .map_or_else(|| "none".to_owned(), |value| value.to_string());
    println!(
        "  OR-Tools: {}, objective {objective}, build {:.2} s (CPU {:.2} s), solve {:.2} s (CPU {:.2} s), peak {} MiB",
        ortools.status,
        ortools.build_seconds,
        ortools.build_cpu_seconds,
        ortools.solve_seconds,
        ortools.solve_cpu_seconds,
        ortools.peak_kib / 1024
    );
}

fn print_table(outcomes: &[Outcome]) {
    println!();
    println!(
        "| instance | referee solve, wall (CPU) | referee peak RSS | OR-Tools build + solve, wall (CPU) \
         | OR-Tools peak RSS | objectives equal |"
    );
    println!("|---|---|---|---|---|---|");
    for outcome in outcomes {
        let (ortools_time, ortools_memory, equal) = match &outcome.ortools {
            Some(ortools) => (
                format!(
                    "{:.2} + {:.2} s ({:.2} + {:.2} s)",
                    ortools.build_seconds,
                    ortools.solve_seconds,
                    ortools.build_cpu_seconds,
                    ortools.solve_cpu_seconds
                ),
                format!("{} MiB", ortools.peak_kib / 1024),
                if ortools.objective == Some(outcome.referee_objective) {
                    "yes"
                } else {
                    "NO"
                },
            ),
            None => ("skipped".to_owned(), "skipped".to_owned(), "not checked"),
        };
        println!(
            "| {} | {:.2} s ({:.2} s) | {} MiB | {ortools_time} | {ortools_memory} | {equal} |",
            outcome.name,
            outcome.referee_seconds,
            outcome.referee_cpu_seconds,
            outcome.referee_peak_kib / 1024
        );
    }
}

// ---------------------------------------------------------------------------------------
// OR-Tools

/// Returns the Python of `target/bench-venv`, creating the environment and installing
/// ortools when it cannot import ortools yet.
fn ensure_venv(workspace: &Workspace) -> Result<PathBuf> {
    let venv = workspace.root.join("target/bench-venv");
    let python = venv.join("bin/python");
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", "import ortools.graph.python.min_cost_flow"])
            .status()
            .is_ok_and(|status| status.success())
    };
    if python.exists() && imports(&python) {
        return Ok(python);
    }

    eprintln!("bench: creating {} and installing ortools", venv.display());
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("failed to run python3 -m venv")?;
    if !created.success() {
        bail!("python3 -m venv {} failed with {created}", venv.display());
    }
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "ortools"])
        .status()
        .context("failed to run pip install ortools")?;
    if !installed.success() || !imports(&python) {
        bail!(
            "pip install ortools into {} failed; rerun with --skip-ortools to time referee alone",
            venv.display()
        );
    }
    Ok(python)
}

/// Writes the instance in the format the OR-Tools script reads: little-endian `i64` values
/// P, R, C, the P demands, the R minimum and R maximum loads, then the C proposal indices,
/// C reviewer indices and C scaled affinities.
fn write_instance(path: &Path, problem: &AssignmentProblem) -> Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    let mut values: Vec<i64> = vec![
        problem.proposals.len() as i64,
        problem.reviewers.len() as i64,
        problem.candidates.len() as i64,
    ];
    values.extend(
        problem
            .proposals
            .iter()
            .map(|proposal| i64::from(proposal.reviewers_needed)),
    );
    values.extend(
        problem
            .reviewers
            .iter()
            .map(|reviewer| i64::from(reviewer.min_proposals)),
    );
    values.extend(
        problem
            .reviewers
            .iter()
            .map(|reviewer| i64::from(reviewer.max_proposals)),
    );
    values.extend(
        problem
            .candidates
            .iter()
            .map(|candidate| candidate.proposal as i64),
    );
    values.extend(
        problem
            .candidates
            .iter()
            .map(|candidate| candidate.reviewer as i64),
    );
    values.extend(
        problem
            .candidates
            .iter()
            .map(|candidate| (candidate.affinity * AFFINITY_SCALE).round() as i64),
    );
    for value in values {
        writer.write_all(&value.to_le_bytes())?;
    }
    writer
        .flush()
        .with_context(|| format!("failed to write {}", path.display()))
}

fn run_ortools(python: &Path, script: &Path, instance: &Path) -> Result<OrToolsOutcome> {
    let output = Command::new(python)
        .arg(script)
        .arg(instance)
        .output()
        .with_context(|| format!("failed to run {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).with_context(|| {
        format!(
            "{} printed no JSON report (exit {}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    Ok(OrToolsOutcome {
        objective: report["objective"].as_i64(),
        status: report["status"].as_str().unwrap_or("unknown").to_owned(),
        build_seconds: report["build_seconds"].as_f64().unwrap_or(f64::NAN),
        solve_seconds: report["solve_seconds"].as_f64().unwrap_or(f64::NAN),
        build_cpu_seconds: report["build_cpu_seconds"].as_f64().unwrap_or(f64::NAN),
        solve_cpu_seconds: report["solve_cpu_seconds"].as_f64().unwrap_or(f64::NAN),
        peak_kib: report["peak_rss_kib"].as_u64().unwrap_or(0),
    })
}

// ---------------------------------------------------------------------------------------
// Instances

/// SplitMix64, so that every run generates the same instances.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in `0..bound` up to a modulo bias below `bound / 2^64`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// Returns a random affinity that is a multiple of 1e-6 in `0..1`.
    fn affinity(&mut self) -> f64 {
        self.below(1_000_000) as f64 / AFFINITY_SCALE
    }
}

fn proposals(count: usize, needed: u32) -> Vec<ProposalDemand> {
    (0..count)
        .map(|index| ProposalDemand {
            uuid: Uuid::nil(),
            name: format!("P{index}"),
            reviewers_needed: needed,
        })
        .collect()
}

fn reviewers(count: usize, min: u32, max: u32) -> Vec<ReviewerCapacity> {
    (0..count)
        .map(|index| ReviewerCapacity {
            uuid: Uuid::nil(),
            name: format!("R{index}"),
            min_proposals: min,
            max_proposals: max,
        })
        .collect()
}

fn candidate(proposal: usize, reviewer: usize, affinity: f64) -> Candidate {
    Candidate {
        proposal,
        reviewer,
        affinity,
        has_affinity: true,
    }
}

fn dense_instance(quick: bool) -> Instance {
    let (proposal_count, reviewer_count) = if quick { (200, 60) } else { (1_000, 300) };
    let mut random = SplitMix64(1);
    let mut candidates = Vec::with_capacity(proposal_count * reviewer_count);
    for proposal in 0..proposal_count {
        for reviewer in 0..reviewer_count {
            candidates.push(candidate(proposal, reviewer, random.affinity()));
        }
    }
    Instance {
        name: "dense",
        description: format!(
            "{proposal_count} proposals x {reviewer_count} reviewers, all pairs, loads 8..=12"
        ),
        problem: AssignmentProblem {
            proposals: proposals(proposal_count, 3),
            reviewers: reviewers(reviewer_count, 8, 12),
            candidates,
        },
    }
}

fn neurips_instance(quick: bool) -> Instance {
    let (proposal_count, reviewer_count, per_proposal) = if quick {
        (1_200, 1_300, 50)
    } else {
        (12_000, 13_000, 200)
    };
    let mut random = SplitMix64(2);
    let mut candidates = Vec::with_capacity(proposal_count * per_proposal);
    for proposal in 0..proposal_count {
        let mut picked = BTreeSet::new();
        while picked.len() < per_proposal {
            picked.insert(random.below(reviewer_count as u64) as usize);
        }
        for reviewer in picked {
            candidates.push(candidate(proposal, reviewer, random.affinity()));
        }
    }
    Instance {
        name: "neurips",
        description: format!(
            "{proposal_count} proposals x {reviewer_count} reviewers, {per_proposal} random candidates each, loads 0..=6"
        ),
        problem: AssignmentProblem {
            proposals: proposals(proposal_count, 3),
            reviewers: reviewers(reviewer_count, 0, 6),
            candidates,
        },
    }
}

/// Builds the ICLR 2018 instance from the submissions file (only the first 200 submissions
/// with `quick`).
fn iclr_instance(path: &Path, quick: bool) -> Result<Instance> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "failed to read the ICLR 2018 submissions at {}; pass --iclr-path or --only",
            path.display()
        )
    })?;
    let submissions: Vec<serde_json::Value> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON list", path.display()))?;
    let limit = if quick { 200 } else { submissions.len() };

    let mut texts = Vec::new();
    let mut titles = Vec::new();
    let mut author_index: HashMap<String, usize> = HashMap::new();
    let mut author_names: Vec<String> = Vec::new();
    let mut papers_of_author: Vec<Vec<usize>> = Vec::new();
    let mut authors_of_paper: Vec<Vec<usize>> = Vec::new();
    for (paper, submission) in submissions.iter().take(limit).enumerate() {
        let title = submission["title"]
            .as_str()
            .with_context(|| format!("submission {paper} has no title"))?;
        let summary = submission["abstract"].as_str().unwrap_or_default();
        let authors = submission["authors"]
            .as_array()
            .with_context(|| format!("submission {paper} has no authors"))?;
        titles.push(title.to_owned());
        texts.push(format!("{title} {summary}"));

        let mut own = Vec::new();
        for author in authors.iter().filter_map(|author| author.as_str()) {
            let index = *author_index.entry(author.to_owned()).or_insert_with(|| {
                author_names.push(author.to_owned());
                papers_of_author.push(Vec::new());
                author_names.len() - 1
            });
            if !own.contains(&index) {
                own.push(index);
                papers_of_author[index].push(paper);
            }
        }
        authors_of_paper.push(own);
    }

    let paper_vectors = tf_idf_vectors(&texts);
    let profiles: Vec<Vec<(u32, f32)>> = papers_of_author
        .iter()
        .map(|papers| author_profile(papers, &paper_vectors))
        .collect();

    let vocabulary_size = paper_vectors
        .iter()
        .flatten()
        .map(|(term, _)| *term as usize + 1)
        .max()
        .unwrap_or(0);
    let mut dense = vec![0f32; vocabulary_size];
    let mut candidates = Vec::with_capacity(titles.len() * author_names.len());
    for (paper, vector) in paper_vectors.iter().enumerate() {
        for (term, weight) in vector {
            dense[*term as usize] = *weight;
        }
        for (author, profile) in profiles.iter().enumerate() {
            if authors_of_paper[paper].contains(&author) {
                continue;
            }
            let cosine: f32 = profile
                .iter()
                .map(|(term, weight)| dense[*term as usize] * weight)
                .sum();
            let affinity = (f64::from(cosine) * AFFINITY_SCALE).round() / AFFINITY_SCALE;
            candidates.push(candidate(paper, author, affinity));
        }
        for (term, _) in vector {
            dense[*term as usize] = 0.0;
        }
    }

    let proposal_count = titles.len();
    let reviewer_count = author_names.len();
    let problem = AssignmentProblem {
        proposals: titles
            .into_iter()
            .map(|name| ProposalDemand {
                uuid: Uuid::nil(),
                name,
                reviewers_needed: 3,
            })
            .collect(),
        reviewers: author_names
            .into_iter()
            .map(|name| ReviewerCapacity {
                uuid: Uuid::nil(),
                name,
                min_proposals: 0,
                max_proposals: 6,
            })
            .collect(),
        candidates,
    };
    Ok(Instance {
        name: "iclr2018",
        description: format!(
            "{proposal_count} submissions x {reviewer_count} authors as reviewers, {} candidates (own papers excluded), loads 0..=6",
            problem.candidates.len()
        ),
        problem,
    })
}

/// Words too common in abstracts to tell papers apart.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "are", "from", "our", "which", "can", "these",
    "has", "have", "been", "not", "its", "also", "such", "more", "than", "their", "they", "into",
    "use", "using", "show", "based", "new", "two", "both", "while", "when", "where", "over",
    "only", "well", "each", "all", "how", "what", "other", "between", "however", "propose",
    "proposed", "paper", "approach", "method", "methods", "results", "work",
];

/// Lowercase alphanumeric words of at least three characters, without stop words and numbers.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| {
            word.chars().count() >= 3 && !word.chars().all(|character| character.is_ascii_digit())
        })
        .map(str::to_lowercase)
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
}

/// Returns one L2-normalised TF-IDF vector per text, as (term id, weight) pairs sorted by term
/// id. Weights are term count times `ln(texts / texts containing the term)`.
fn tf_idf_vectors(texts: &[String]) -> Vec<Vec<(u32, f32)>> {
    let mut vocabulary: HashMap<String, u32> = HashMap::new();
    let mut counts: Vec<HashMap<u32, u32>> = Vec::with_capacity(texts.len());
    for text in texts {
        let mut count: HashMap<u32, u32> = HashMap::new();
        for token in tokens(text) {
            let next_id = vocabulary.len() as u32;
            let id = *vocabulary.entry(token).or_insert(next_id);
            *count.entry(id).or_insert(0) += 1;
        }
        counts.push(count);
    }

    let mut document_frequency = vec![0u32; vocabulary.len()];
    for count in &counts {
        for term in count.keys() {
            document_frequency[*term as usize] += 1;
        }
    }
    let text_count = texts.len() as f64;
    counts
        .into_iter()
        .map(|count| {
            let mut vector: Vec<(u32, f32)> = count
                .into_iter()
                .map(|(term, times)| {
                    let idf = (text_count / f64::from(document_frequency[term as usize])).ln();
                    (term, (f64::from(times) * idf) as f32)
                })
                .collect();
            vector.sort_unstable_by_key(|(term, _)| *term);
            normalise(&mut vector);
            vector
        })
        .collect()
}

/// Sum of the author's paper vectors, L2-normalised.
fn author_profile(papers: &[usize], paper_vectors: &[Vec<(u32, f32)>]) -> Vec<(u32, f32)> {
    let mut sum: HashMap<u32, f32> = HashMap::new();
    for paper in papers {
        for (term, weight) in &paper_vectors[*paper] {
            *sum.entry(*term).or_insert(0.0) += weight;
        }
    }
    let mut profile: Vec<(u32, f32)> = sum.into_iter().collect();
    profile.sort_unstable_by_key(|(term, _)| *term);
    normalise(&mut profile);
    profile
}

fn normalise(vector: &mut [(u32, f32)]) {
    let norm = vector
        .iter()
        .map(|(_, weight)| weight * weight)
        .sum::<f32>()
        .sqrt();
    if norm > 0.0 {
        for (_, weight) in vector.iter_mut() {
            *weight /= norm;
        }
    }
}
