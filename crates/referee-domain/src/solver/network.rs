//! The flow network of an assignment problem.
//!
//! Nodes: one per proposal, one per reviewer, the sink `T`, the unfilled source `S` (used only
//! when proposals may stay short), and the super source and super sink that carry node supplies.
//! Arcs, in this order:
//! - `p -> r` for each usable candidate, capacity 1, cost `cost_offset - scaled affinity`;
//! - `r -> T`, capacity `max_proposals - min_proposals` (or `max_proposals` when minimum
//!   loads are ignored), cost 0;
//! - with unfilled proposals allowed: `S -> p`, capacity `reviewers_needed`, cost 0, and the
//!   bypass `S -> T`, capacity total demand, cost `unfilled_penalty`.
//!
//! Lower bounds become supplies: proposal `p` supplies `reviewers_needed` (or `S` supplies the
//! total demand), reviewer `r` requires `min_proposals` and `T` requires the rest. Every unit
//! crosses exactly one candidate arc or the bypass, so shifting affinities by `cost_offset`
//! keeps costs non-negative without changing which assignment is optimal.

use super::flow::FlowNetwork;
use crate::assignment::AssignmentProblem;

/// How to build the network for one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NetworkSpec<'a> {
    /// Candidates that become arcs (false for duplicates and for pairs a run excludes).
    pub usable: &'a [bool],
    /// Affinities in units of 1 / [`super::AFFINITY_SCALE`].
    pub scaled: &'a [i64],
    pub enforce_min_loads: bool,
    pub allow_unfilled: bool,
    /// All candidate costs 0 and an unfilled penalty of 1: only feasibility and coverage count.
    pub flat_costs: bool,
}

pub(crate) struct AssignmentNetwork {
    pub network: FlowNetwork,
    pub candidate_arcs: Vec<Option<usize>>,
    pub super_source: usize,
    pub super_sink: usize,
    pub sink: usize,
    pub unfilled_source: usize,
    /// Total supply that must leave the super source for the run to be feasible.
    pub required: i64,
    pub cost_offset: i64,
    pub unfilled_penalty: i64,
    flat_costs: bool,
}

/// The costs cannot be represented in `i64` with room for path lengths.
#[derive(Debug)]
pub(crate) struct CostOverflow;

/// Returns the cost offset (largest usable scaled affinity, 0 when none) and the largest
/// candidate cost it produces.
pub(crate) fn cost_range(usable: &[bool], scaled: &[i64]) -> (i64, i64) {
    let values = || scaled.iter().zip(usable).filter(|(_, usable)| **usable).map(|(value, _)| *value);
    let Some(highest) = values().max() else {
        return (0, 0);
    };
    let lowest = values().min().unwrap_or(highest);
    (highest, highest - lowest)
}

/// Returns the penalty per unfilled slot: larger than any difference in total candidate cost,
/// so one more filled slot always outweighs any affinity.
pub(crate) fn unfilled_penalty(total_demand: i64, largest_cost: i64) -> Option<i64> {
    total_demand.checked_mul(largest_cost)?.checked_add(1)
}

impl AssignmentNetwork {
    pub(crate) fn build(problem: &AssignmentProblem, spec: NetworkSpec<'_>) -> Result<Self, CostOverflow> {
        let proposal_count = problem.proposals.len();
        let reviewer_count = problem.reviewers.len();
        let sink = proposal_count + reviewer_count;
        let unfilled_source = sink + 1;
        let super_source = sink + 2;
        let super_sink = sink + 3;
        let node_count = sink + 4;

        let total_demand: i64 = problem.proposals.iter().map(|proposal| i64::from(proposal.reviewers_needed)).sum();
        let min_load = |index: usize| {
            if spec.enforce_min_loads { i64::from(problem.reviewers[index].min_proposals) } else { 0 }
        };
        let total_min_load: i64 = (0..reviewer_count).map(min_load).sum();

        let (cost_offset, largest_cost, penalty) = if spec.flat_costs {
            (0, 0, 1)
        } else {
            let (offset, largest) = cost_range(spec.usable, spec.scaled);
            let penalty = unfilled_penalty(total_demand, largest).ok_or(CostOverflow)?;
            (offset, largest, penalty)
        };
        // Shortest-path distances stay below the penalty plus one candidate cost per node.
        let path_bound = largest_cost
            .checked_mul(node_count as i64)
            .and_then(|bound| bound.checked_add(penalty))
            .and_then(|bound| bound.checked_mul(8))
            .ok_or(CostOverflow)?;
        if path_bound >= i64::MAX / 4 {
            return Err(CostOverflow);
        }

        let mut network = FlowNetwork::new(node_count);
        let mut candidate_arcs = vec![None; problem.candidates.len()];
        for (index, candidate) in problem.candidates.iter().enumerate() {
            if !spec.usable[index] {
                continue;
            }
            let cost = if spec.flat_costs { 0 } else { cost_offset - spec.scaled[index] };
            let arc = network.add_arc(candidate.proposal, proposal_count + candidate.reviewer, 1, cost);
            candidate_arcs[index] = Some(arc);
        }
        for (index, reviewer) in problem.reviewers.iter().enumerate() {
            let spare = i64::from(reviewer.max_proposals) - min_load(index);
            network.add_arc(proposal_count + index, sink, spare.max(0), 0);
        }
        if spec.allow_unfilled {
            for (index, proposal) in problem.proposals.iter().enumerate() {
                network.add_arc(unfilled_source, index, i64::from(proposal.reviewers_needed), 0);
            }
            network.add_arc(unfilled_source, sink, total_demand, penalty);
        }

        let mut supplies = vec![0i64; node_count];
        if spec.allow_unfilled {
            supplies[unfilled_source] = total_demand;
        } else {
            for (index, proposal) in problem.proposals.iter().enumerate() {
                supplies[index] = i64::from(proposal.reviewers_needed);
            }
        }
        for index in 0..reviewer_count {
            supplies[proposal_count + index] = -min_load(index);
        }
        supplies[sink] = total_min_load - total_demand;

        let mut required = 0;
        for (node, supply) in supplies.iter().enumerate() {
            if *supply > 0 {
                network.add_arc(super_source, node, *supply, 0);
                required += supply;
            } else if *supply < 0 {
                network.add_arc(node, super_sink, -supply, 0);
            }
        }
        network.finish();

        Ok(Self {
            network,
            candidate_arcs,
            super_source,
            super_sink,
            sink,
            unfilled_source,
            required,
            cost_offset,
            unfilled_penalty: if spec.allow_unfilled { penalty } else { 0 },
            flat_costs: spec.flat_costs,
        })
    }

    /// Solves the min-cost flow and returns whether every supply was routed.
    pub(crate) fn solve(&mut self) -> bool {
        // Flat costs give few distinct path lengths, where blocking flows are fastest.
        let routed = if self.flat_costs {
            self.network.max_flow_min_cost(self.super_source, self.super_sink)
        } else {
            self.network.min_cost_flow_by_supply_node(self.super_source, self.super_sink)
        };
        routed == self.required
    }

    /// Indices of the candidates that carry flow, ascending.
    pub(crate) fn chosen(&self) -> Vec<usize> {
        self.candidate_arcs
            .iter()
            .enumerate()
            .filter_map(|(index, arc)| arc.filter(|arc| self.network.flow(*arc) > 0).map(|_| index))
            .collect()
    }
}
