//! Exact reviewer assignment as an integral min-cost flow with lower bounds.
//!
//! Each proposal gets exactly `reviewers_needed` reviewers, each reviewer between
//! `min_proposals` and `max_proposals` proposals, only listed candidate pairs are used, and
//! the total affinity is maximised. Lower bounds become node supplies routed from a super
//! source to a super sink (see the `network` module). A feasible flow comes from blocking
//! flows, and cost-scaling push-relabel makes it min-cost in integer costs (see the `scaling`
//! module). Successive shortest paths (see the `flow` module) remain as the fallback when
//! cost scaling stops early.
//!
//! Precision: affinities are rounded to integers `round(affinity * AFFINITY_SCALE)`, so the
//! returned total is optimal to within `total_demand * 1e-6` of the true optimum (each chosen
//! and each optimal pair is off by at most 0.5e-6).
//!
//! Determinism: the same problem (same candidate order) always gives the same solution. When
//! several assignments reach the same scaled total, the one returned follows from the scan
//! order of the flow methods (nodes by index, each node's arcs in candidate-index order, FIFO
//! queues), not from a documented tie-breaking rule.
#![expect(
    clippy::result_large_err,
    reason = "an Infeasibility is built at most once per solve, and callers read all of its fields"
)]

mod certificate;
mod explain;
mod flow;
mod network;
mod scaling;

pub use certificate::{Certificate, certificate_holds};
pub use explain::{Infeasibility, InfeasibilityKind};

use crate::assignment::{AssignmentProblem, AssignmentSolution, Unfilled};
use network::{AssignmentNetwork, NetworkSpec};

/// Affinities are multiplied by this factor and rounded to integers.
pub const AFFINITY_SCALE: f64 = 1_000_000.0;

/// Largest absolute affinity accepted, so that scaled costs and path lengths fit in `i64`.
pub const MAX_ABS_AFFINITY: f64 = 1_000_000.0;

/// Which objective [`solve`] optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Maximum total affinity with each reviewer's load within `min_proposals..=max_proposals`.
    #[default]
    MinMax,
    /// Maximum total affinity with loads only capped by `max_proposals` (`min_proposals`
    /// ignored): the classical assignment problem, solved by the same flow.
    Hungarian,
    /// First maximise the lowest affinity of any assigned pair, then the total affinity among
    /// assignments reaching that lowest affinity. Loads as for [`Algorithm::MinMax`].
    ///
    /// NOTE: this maximises the weakest pair, not the weakest proposal total. Maximising the
    /// lowest per-proposal total is strongly NP-hard (three reviewers per proposal and one
    /// proposal per reviewer already encode 3-partition), so no exact flow method exists for it.
    /// The weakest proposal total is at least `reviewers_needed` times the returned threshold.
    FairFlow,
}

impl Algorithm {
    /// Name recorded in [`AssignmentSolution::algorithm`].
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::MinMax => "minmax",
            Algorithm::Hungarian => "hungarian",
            Algorithm::FairFlow => "fairflow",
        }
    }

    fn enforces_min_loads(self) -> bool {
        self != Algorithm::Hungarian
    }
}

/// Options of [`solve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SolveOptions {
    /// When true, proposals that cannot get all their reviewers are reported in
    /// [`AssignmentSolution::unfilled`] instead of failing the solve. The solver then
    /// maximises the number of assigned pairs first and the total affinity second: one more
    /// assigned pair outweighs any affinity difference. Minimum loads stay hard limits.
    pub allow_unfilled: bool,
    pub algorithm: Algorithm,
}

/// A solution with the proof of its optimality.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    pub solution: AssignmentSolution,
    pub certificate: Certificate,
    /// Sum of the chosen affinities in units of `1 / AFFINITY_SCALE`.
    pub objective: i64,
}

/// Candidates after validation: scaled affinities, and which candidates become arcs.
pub(crate) struct Prepared {
    pub scaled: Vec<i64>,
    /// False for a repeated (proposal, reviewer) pair, except the repeat with the highest
    /// affinity (the lowest index among equal ones).
    pub usable: Vec<bool>,
}

/// Validates indices and affinities, scales affinities and marks repeated pairs unusable.
pub(crate) fn prepare(problem: &AssignmentProblem) -> Result<Prepared, Infeasibility> {
    let mut scaled = Vec::with_capacity(problem.candidates.len());
    for (index, candidate) in problem.candidates.iter().enumerate() {
        if candidate.proposal >= problem.proposals.len()
            || candidate.reviewer >= problem.reviewers.len()
        {
            return Err(Infeasibility::invalid(
                format!(
                    "Candidate {index} refers to proposal {} and reviewer {}, but the problem has {} proposals \
                     and {} reviewers.",
                    candidate.proposal,
                    candidate.reviewer,
                    problem.proposals.len(),
                    problem.reviewers.len()
                ),
                "Build candidates from indices into the problem's proposals and reviewers.",
            ));
        }
        if !candidate.affinity.is_finite() || candidate.affinity.abs() > MAX_ABS_AFFINITY {
            return Err(Infeasibility::invalid(
                format!(
                    "Candidate {index} has affinity {}, outside the supported range -{MAX_ABS_AFFINITY}..={MAX_ABS_AFFINITY}.",
                    candidate.affinity
                ),
                "Use finite affinities, for example scores between 0 and 1.",
            ));
        }
        scaled.push((candidate.affinity * AFFINITY_SCALE).round() as i64);
    }

    let mut order: Vec<usize> = (0..problem.candidates.len()).collect();
    order.sort_by_key(|index| {
        let candidate = &problem.candidates[*index];
        (
            candidate.proposal,
            candidate.reviewer,
            std::cmp::Reverse(scaled[*index]),
            *index,
        )
    });
    let mut usable = vec![false; problem.candidates.len()];
    let mut previous_pair = None;
    for index in order {
        let pair = (
            problem.candidates[index].proposal,
            problem.candidates[index].reviewer,
        );
        if previous_pair != Some(pair) {
            usable[index] = true;
            previous_pair = Some(pair);
        }
    }
    Ok(Prepared { scaled, usable })
}

/// Assigns reviewers to proposals optimally for `options.algorithm`.
///
/// Returns [`Infeasibility`] when no assignment meets every demand and bound (with
/// `allow_unfilled`, only when minimum loads cannot be met), naming the group responsible.
pub fn solve(problem: &AssignmentProblem, options: &SolveOptions) -> Result<Solved, Infeasibility> {
    let prepared = prepare(problem)?;
    let enforce_min_loads = options.algorithm.enforces_min_loads();

    if enforce_min_loads && let Some(explanation) = explain::explain_inverted_bounds(problem) {
        return Err(explanation);
    }

    let mut usable = prepared.usable.clone();
    let mut min_affinity = None;
    if options.algorithm == Algorithm::FairFlow {
        min_affinity = highest_feasible_threshold(problem, &prepared, options.allow_unfilled)?;
        if let Some(threshold) = min_affinity {
            for (usable, scaled) in usable.iter_mut().zip(&prepared.scaled) {
                *usable = *usable && *scaled >= threshold;
            }
        }
    }

    let spec = NetworkSpec {
        usable: &usable,
        scaled: &prepared.scaled,
        enforce_min_loads,
        allow_unfilled: options.allow_unfilled,
        flat_costs: false,
    };
    let mut built = build(problem, spec)?;
    if !built.solve() {
        // The explanations need two more max flows, so they run only after a failure.
        return Err(explain_infeasible(
            problem,
            &prepared,
            enforce_min_loads,
            options.allow_unfilled,
        ));
    }

    let chosen = built.chosen();
    let objective = chosen.iter().map(|index| prepared.scaled[*index]).sum();
    let unfilled = if options.allow_unfilled {
        unfilled_proposals(problem, &usable, &chosen)
    } else {
        Vec::new()
    };
    let proposal_count = problem.proposals.len();
    let network = &built.network;
    let certificate = Certificate {
        algorithm: options.algorithm,
        allow_unfilled: options.allow_unfilled,
        min_affinity,
        cost_offset: built.cost_offset,
        unfilled_penalty: built.unfilled_penalty,
        proposal_potentials: (0..proposal_count)
            .map(|node| network.potential(node))
            .collect(),
        reviewer_potentials: (0..problem.reviewers.len())
            .map(|index| network.potential(proposal_count + index))
            .collect(),
        sink_potential: network.potential(built.sink),
        source_potential: if options.allow_unfilled {
            network.potential(built.unfilled_source)
        } else {
            0
        },
    };

    Ok(Solved {
        solution: AssignmentSolution {
            chosen,
            unfilled,
            algorithm: options.algorithm.name().to_owned(),
        },
        certificate,
        objective,
    })
}

fn build(
    problem: &AssignmentProblem,
    spec: NetworkSpec<'_>,
) -> Result<AssignmentNetwork, Infeasibility> {
    AssignmentNetwork::build(problem, spec).map_err(|_| {
        Infeasibility::invalid(
            "The affinity range times the total demand is too large for exact integer costs."
                .to_owned(),
            "Rescale affinities to a narrower range, for example 0 to 1.",
        )
    })
}

/// Explains why no assignment meets the hard limits of the run: proposal demand first, then
/// minimum loads, then both together.
fn explain_infeasible(
    problem: &AssignmentProblem,
    prepared: &Prepared,
    enforce_min_loads: bool,
    allow_unfilled: bool,
) -> Infeasibility {
    if !allow_unfilled && let Some(explanation) = explain::explain_demand(problem, &prepared.usable)
    {
        return explanation;
    }
    if enforce_min_loads
        && let Some(explanation) = explain::explain_min_loads(problem, &prepared.usable)
    {
        return explanation;
    }
    // NOTE: by the linking property of bipartite flows, both checks passing should imply a
    // joint solution, so this fallback should be unreachable. The property tests compare
    // this path with brute force on small instances.
    explain::explain_combined(problem)
}

/// Returns the largest scaled affinity `t` such that using only candidates with affinity at
/// least `t` still meets every hard limit (and, with `allow_unfilled`, still reaches the
/// maximum number of assigned pairs), or `None` when nothing is assigned. Binary search over
/// the distinct candidate affinities, one flat-cost flow per step.
fn highest_feasible_threshold(
    problem: &AssignmentProblem,
    prepared: &Prepared,
    allow_unfilled: bool,
) -> Result<Option<i64>, Infeasibility> {
    let mut values: Vec<i64> = prepared
        .scaled
        .iter()
        .zip(&prepared.usable)
        .filter(|(_, usable)| **usable)
        .map(|(value, _)| *value)
        .collect();
    values.sort_unstable();
    values.dedup();
    if values.is_empty() {
        return Ok(None);
    }

    // Flat costs with the unfilled penalty 1 make the min cost the number of unfilled slots.
    let unfilled_slots = |threshold: i64| -> Result<Option<i64>, Infeasibility> {
        let usable: Vec<bool> = prepared
            .usable
            .iter()
            .zip(&prepared.scaled)
            .map(|(usable, scaled)| *usable && *scaled >= threshold)
            .collect();
        let spec = NetworkSpec {
            usable: &usable,
            scaled: &prepared.scaled,
            enforce_min_loads: true,
            allow_unfilled,
            flat_costs: true,
        };
        let mut built = build(problem, spec)?;
        if !built.solve() {
            return Ok(None);
        }
        let chosen = built.chosen().len() as i64;
        Ok(Some(chosen))
    };

    let Some(best_coverage) = unfilled_slots(values[0])? else {
        return Ok(None);
    };
    if best_coverage == 0 {
        return Ok(None);
    }
    // Invariant: values[low] keeps the best coverage; values[high] does not (or is past the end).
    let (mut low, mut high) = (0, values.len());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if unfilled_slots(values[middle])? == Some(best_coverage) {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(Some(values[low]))
}

/// Lists the proposals left short, with a reason each.
fn unfilled_proposals(
    problem: &AssignmentProblem,
    usable: &[bool],
    chosen: &[usize],
) -> Vec<Unfilled> {
    let mut assigned = vec![0u32; problem.proposals.len()];
    for index in chosen {
        assigned[problem.candidates[*index].proposal] += 1;
    }
    let mut candidate_count = vec![0u32; problem.proposals.len()];
    for (candidate, usable) in problem.candidates.iter().zip(usable) {
        if *usable {
            candidate_count[candidate.proposal] += 1;
        }
    }

    let mut unfilled = Vec::new();
    for (index, proposal) in problem.proposals.iter().enumerate() {
        let needed = proposal.reviewers_needed;
        if assigned[index] >= needed {
            continue;
        }
        let reason = if candidate_count[index] == 0 {
            "No eligible reviewers available".to_owned()
        } else if candidate_count[index] < needed {
            format!(
                "Only {} eligible reviewers for {needed} places: {} of {needed} assigned",
                candidate_count[index], assigned[index]
            )
        } else {
            format!(
                "Eligible reviewers are at max_proposals or needed by other proposals: {} of {needed} assigned",
                assigned[index]
            )
        };
        unfilled.push(Unfilled {
            proposal: index,
            assigned: assigned[index],
            needed,
            reason,
        });
    }
    unfilled
}
