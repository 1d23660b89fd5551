//! The optimality certificate of a solve and its independent checker.

use super::network::{cost_range, unfilled_penalty};
use super::{Algorithm, Solved, prepare};
use crate::assignment::AssignmentProblem;

/// Node potentials (dual prices) proving that a solution is a min-cost flow of its network
/// (the network is described in the `network` module of the solver).
///
/// The cost of candidate `i` is `cost_offset - round(affinity_i * AFFINITY_SCALE)`; the arcs
/// `r -> T` and `S -> p` cost 0 and the bypass `S -> T` costs `unfilled_penalty`. For every
/// arc `u -> v` with cost `c` that can still carry more flow, `c + potential(u) - potential(v)`
/// is non-negative, and for every arc that carries flow it is non-positive. Only the
/// min-cost flow is certified. The fairflow threshold `min_affinity` is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub algorithm: Algorithm,
    pub allow_unfilled: bool,
    /// Candidates with a lower scaled affinity were excluded (fairflow only).
    pub min_affinity: Option<i64>,
    pub cost_offset: i64,
    /// Cost of one unfilled slot, 0 unless unfilled proposals are allowed.
    pub unfilled_penalty: i64,
    pub proposal_potentials: Vec<i64>,
    pub reviewer_potentials: Vec<i64>,
    /// Potential of the sink `T` that collects each reviewer's load above `min_proposals`.
    pub sink_potential: i64,
    /// Potential of the source `S` of unfilled runs, 0 otherwise.
    pub source_potential: i64,
}

/// Checks a solve against its problem without trusting the solver: the chosen pairs are
/// distinct usable candidates, every demand and load bound holds, `objective` is their scaled
/// total, the unfilled list matches, and the certificate's potentials leave no residual arc
/// with negative reduced cost (so no cheaper assignment exists).
pub fn certificate_holds(problem: &AssignmentProblem, solved: &Solved) -> bool {
    let certificate = &solved.certificate;
    let Ok(prepared) = prepare(problem) else {
        return false;
    };
    let proposal_count = problem.proposals.len();
    let reviewer_count = problem.reviewers.len();
    if certificate.proposal_potentials.len() != proposal_count
        || certificate.reviewer_potentials.len() != reviewer_count
    {
        return false;
    }

    let usable: Vec<bool> = prepared
        .usable
        .iter()
        .zip(&prepared.scaled)
        .map(|(usable, scaled)| {
            *usable
                && certificate
                    .min_affinity
                    .is_none_or(|threshold| *scaled >= threshold)
        })
        .collect();

    let chosen = &solved.solution.chosen;
    if chosen.windows(2).any(|pair| pair[0] >= pair[1]) {
        return false;
    }
    if chosen
        .iter()
        .any(|index| *index >= usable.len() || !usable[*index])
    {
        return false;
    }
    let mut is_chosen = vec![false; usable.len()];
    let mut assigned = vec![0i64; proposal_count];
    let mut load = vec![0i64; reviewer_count];
    for &index in chosen {
        is_chosen[index] = true;
        assigned[problem.candidates[index].proposal] += 1;
        load[problem.candidates[index].reviewer] += 1;
    }

    let objective: i64 = chosen.iter().map(|index| prepared.scaled[*index]).sum();
    if objective != solved.objective {
        return false;
    }

    let enforce_min_loads = certificate.algorithm != Algorithm::Hungarian;
    let min_load = |index: usize| {
        if enforce_min_loads {
            i64::from(problem.reviewers[index].min_proposals)
        } else {
            0
        }
    };
    for (index, reviewer) in problem.reviewers.iter().enumerate() {
        if load[index] < min_load(index) || load[index] > i64::from(reviewer.max_proposals) {
            return false;
        }
    }
    if !unfilled_list_matches(problem, solved, &assigned, certificate.allow_unfilled) {
        return false;
    }

    // Prices and costs of the network the solver used.
    let (highest, largest_cost) = cost_range(&usable, &prepared.scaled);
    if certificate.cost_offset < highest {
        return false;
    }
    let total_demand: i64 = problem
        .proposals
        .iter()
        .map(|proposal| i64::from(proposal.reviewers_needed))
        .sum();
    let filled: i64 = assigned.iter().sum();
    if certificate.allow_unfilled {
        // The penalty must outweigh any total cost difference for coverage to come first.
        let widest_cost = largest_cost + (certificate.cost_offset - highest);
        match unfilled_penalty(total_demand, widest_cost) {
            Some(least) if certificate.unfilled_penalty >= least => {}
            _ => return false,
        }
    }

    let proposal_price = |index: usize| certificate.proposal_potentials[index];
    let reviewer_price = |index: usize| certificate.reviewer_potentials[index];
    let sink_price = certificate.sink_potential;
    let source_price = certificate.source_potential;

    for (index, candidate) in problem.candidates.iter().enumerate() {
        if !usable[index] {
            continue;
        }
        let cost = certificate.cost_offset - prepared.scaled[index];
        let reduced =
            cost + proposal_price(candidate.proposal) - reviewer_price(candidate.reviewer);
        if !arc_is_optimal(reduced, i64::from(is_chosen[index]), 1) {
            return false;
        }
    }
    for (index, reviewer) in problem.reviewers.iter().enumerate() {
        let capacity = i64::from(reviewer.max_proposals) - min_load(index);
        let reduced = reviewer_price(index) - sink_price;
        if !arc_is_optimal(reduced, load[index] - min_load(index), capacity) {
            return false;
        }
    }
    if certificate.allow_unfilled {
        for (index, proposal) in problem.proposals.iter().enumerate() {
            let reduced = source_price - proposal_price(index);
            if !arc_is_optimal(
                reduced,
                assigned[index],
                i64::from(proposal.reviewers_needed),
            ) {
                return false;
            }
        }
        let reduced = certificate.unfilled_penalty + source_price - sink_price;
        if !arc_is_optimal(reduced, total_demand - filled, total_demand) {
            return false;
        }
    }
    true
}

/// Complementary slackness for one arc: an arc below capacity needs a non-negative reduced
/// cost, an arc with flow a non-positive one.
fn arc_is_optimal(reduced_cost: i64, flow: i64, capacity: i64) -> bool {
    let forward_ok = flow >= capacity || reduced_cost >= 0;
    let backward_ok = flow <= 0 || reduced_cost <= 0;
    forward_ok && backward_ok
}

fn unfilled_list_matches(
    problem: &AssignmentProblem,
    solved: &Solved,
    assigned: &[i64],
    allow_unfilled: bool,
) -> bool {
    let short: Vec<(usize, i64, i64)> = problem
        .proposals
        .iter()
        .enumerate()
        .map(|(index, proposal)| (index, assigned[index], i64::from(proposal.reviewers_needed)))
        .filter(|(_, assigned, needed)| assigned != needed)
        .collect();
    if short.iter().any(|(_, assigned, needed)| assigned > needed) {
        return false;
    }
    if !allow_unfilled && !short.is_empty() {
        return false;
    }
    let reported: Vec<(usize, i64, i64)> = solved
        .solution
        .unfilled
        .iter()
        .map(|unfilled| {
            (
                unfilled.proposal,
                i64::from(unfilled.assigned),
                i64::from(unfilled.needed),
            )
        })
        .collect();
    reported == short
}
