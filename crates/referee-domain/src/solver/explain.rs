//! Explanations of infeasible problems, taken from a minimum cut.
//!
//! Demand check: a max flow from proposals (supply `reviewers_needed`) through candidate pairs
//! (capacity 1) to reviewers (capacity `max_proposals`). If it falls short, the nodes still
//! reachable from the super source form the smallest group with the largest shortfall (the
//! source side of the inclusion-minimal minimum cut). Minimum-load check: the same on the
//! reversed graph, from reviewers (supply `min_proposals`) to proposals (capacity
//! `reviewers_needed`).

use std::fmt;

use super::flow::FlowNetwork;
use crate::assignment::AssignmentProblem;

/// Which limit makes the problem infeasible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfeasibilityKind {
    /// Proposals need more reviewers than their candidates can take.
    ProposalDemand,
    /// Reviewers cannot reach their `min_proposals`.
    ReviewerMinimum,
    /// The problem itself is malformed (index out of range, non-finite affinity, an affinity
    /// range too wide for integer costs).
    InvalidProblem,
}

/// Why no assignment meets every demand and bound, with the group of proposals and
/// reviewers responsible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Infeasibility {
    pub kind: InfeasibilityKind,
    /// Indices into [`AssignmentProblem::proposals`], ascending.
    pub proposals: Vec<usize>,
    /// Indices into [`AssignmentProblem::reviewers`], ascending.
    pub reviewers: Vec<usize>,
    /// Assignments the group must receive: the sum of `reviewers_needed` of the proposals
    /// (demand) or of `min_proposals` of the reviewers (minimum load).
    pub demand: u64,
    /// Assignments the other side can give the group at most: the sum of `max_proposals` of the
    /// reviewers (demand) or of `reviewers_needed` of the proposals (minimum load).
    pub capacity: u64,
    /// Assignments of the group that can be made at most, counting each pair at most once.
    /// Always below `demand`.
    pub attainable: u64,
    /// One-sentence description naming the group.
    pub message: String,
    /// Which limits to change.
    pub suggestion: String,
}

impl fmt::Display for Infeasibility {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.message, self.suggestion)
    }
}

impl std::error::Error for Infeasibility {}

impl Infeasibility {
    pub(crate) fn invalid(message: String, suggestion: &str) -> Self {
        Self {
            kind: InfeasibilityKind::InvalidProblem,
            proposals: Vec::new(),
            reviewers: Vec::new(),
            demand: 0,
            capacity: 0,
            attainable: 0,
            message,
            suggestion: suggestion.to_owned(),
        }
    }
}

fn proposal_names(problem: &AssignmentProblem, indices: &[usize]) -> String {
    join_names(
        indices
            .iter()
            .map(|index| problem.proposals[*index].name.as_str()),
    )
}

fn reviewer_names(problem: &AssignmentProblem, indices: &[usize]) -> String {
    join_names(
        indices
            .iter()
            .map(|index| problem.reviewers[*index].name.as_str()),
    )
}

/// Joins names as "A", "A and B" or "A, B and C"; empty names become "(unnamed)".
fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names
        .map(|name| if name.is_empty() { "(unnamed)" } else { name })
        .collect();
    match names.as_slice() {
        [] => "(none)".to_owned(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

/// Returns the explanation for reviewers whose `min_proposals` exceeds `max_proposals`, if any.
pub(crate) fn explain_inverted_bounds(problem: &AssignmentProblem) -> Option<Infeasibility> {
    let reviewers: Vec<usize> = (0..problem.reviewers.len())
        .filter(|index| {
            problem.reviewers[*index].min_proposals > problem.reviewers[*index].max_proposals
        })
        .collect();
    if reviewers.is_empty() {
        return None;
    }
    let demand: u64 = reviewers
        .iter()
        .map(|index| u64::from(problem.reviewers[*index].min_proposals))
        .sum();
    let capacity: u64 = reviewers
        .iter()
        .map(|index| u64::from(problem.reviewers[*index].max_proposals))
        .sum();
    let names = reviewer_names(problem, &reviewers);
    Some(Infeasibility {
        kind: InfeasibilityKind::ReviewerMinimum,
        proposals: Vec::new(),
        reviewers,
        demand,
        capacity,
        attainable: capacity,
        message: format!(
            "Reviewers {names} have min_proposals above max_proposals ({demand} required in total, {capacity} allowed)."
        ),
        suggestion: format!("Lower min_proposals or raise max_proposals of {names}."),
    })
}

/// Returns the demand explanation when proposals cannot all get `reviewers_needed` reviewers
/// within the reviewers' `max_proposals`, ignoring minimum loads.
pub(crate) fn explain_demand(
    problem: &AssignmentProblem,
    usable: &[bool],
) -> Option<Infeasibility> {
    let proposal_count = problem.proposals.len();
    let reviewer_count = problem.reviewers.len();
    let source = proposal_count + reviewer_count;
    let sink = source + 1;
    let mut network = FlowNetwork::new(sink + 1);
    let mut total_demand = 0;
    for (index, proposal) in problem.proposals.iter().enumerate() {
        network.add_arc(source, index, i64::from(proposal.reviewers_needed), 0);
        total_demand += i64::from(proposal.reviewers_needed);
    }
    for (index, candidate) in problem.candidates.iter().enumerate() {
        if usable[index] {
            network.add_arc(
                candidate.proposal,
                proposal_count + candidate.reviewer,
                1,
                0,
            );
        }
    }
    for (index, reviewer) in problem.reviewers.iter().enumerate() {
        network.add_arc(
            proposal_count + index,
            sink,
            i64::from(reviewer.max_proposals),
            0,
        );
    }
    network.finish();

    let routed = network.max_flow_min_cost(source, sink);
    if routed == total_demand {
        return None;
    }
    let reached = network.reachable_from(source);
    let proposals: Vec<usize> = (0..proposal_count)
        .filter(|index| reached[*index])
        .collect();
    let reviewers = neighbours(problem, usable, |candidate| {
        reached[candidate.proposal].then_some(candidate.reviewer)
    });

    let demand: u64 = proposals
        .iter()
        .map(|index| u64::from(problem.proposals[*index].reviewers_needed))
        .sum();
    let capacity: u64 = reviewers
        .iter()
        .map(|index| u64::from(problem.reviewers[*index].max_proposals))
        .sum();
    let shortfall = (total_demand - routed) as u64;
    let attainable = demand - shortfall;
    let proposal_list = proposal_names(problem, &proposals);
    let reviewer_list = reviewer_names(problem, &reviewers);

    let message = if reviewers.is_empty() {
        format!(
            "Proposals {proposal_list} need {demand} reviewer assignments but have no candidate reviewers."
        )
    } else {
        format!(
            "Proposals {proposal_list} need {demand} reviewer assignments, but their candidate reviewers \
             {reviewer_list} can take at most {capacity} in total (the sum of their max_proposals), and at \
             most {attainable} of these assignments can be made because a reviewer reviews each proposal \
             at most once."
        )
    };
    let suggestion = if reviewers.is_empty() {
        format!("Add candidates for {proposal_list} or lower their reviewers_needed.")
    } else {
        format!(
            "Raise max_proposals of {reviewer_list}, lower reviewers_needed of {proposal_list}, or add \
             candidates pairing these proposals with other reviewers."
        )
    };
    Some(Infeasibility {
        kind: InfeasibilityKind::ProposalDemand,
        proposals,
        reviewers,
        demand,
        capacity,
        attainable,
        message,
        suggestion,
    })
}

/// Returns the minimum-load explanation when reviewers cannot all get `min_proposals`
/// proposals, with each proposal taking at most `reviewers_needed` reviewers.
pub(crate) fn explain_min_loads(
    problem: &AssignmentProblem,
    usable: &[bool],
) -> Option<Infeasibility> {
    let proposal_count = problem.proposals.len();
    let reviewer_count = problem.reviewers.len();
    let source = proposal_count + reviewer_count;
    let sink = source + 1;
    let mut network = FlowNetwork::new(sink + 1);
    let mut total_minimum = 0;
    for (index, reviewer) in problem.reviewers.iter().enumerate() {
        network.add_arc(
            source,
            proposal_count + index,
            i64::from(reviewer.min_proposals),
            0,
        );
        total_minimum += i64::from(reviewer.min_proposals);
    }
    for (index, candidate) in problem.candidates.iter().enumerate() {
        if usable[index] {
            network.add_arc(
                proposal_count + candidate.reviewer,
                candidate.proposal,
                1,
                0,
            );
        }
    }
    for (index, proposal) in problem.proposals.iter().enumerate() {
        network.add_arc(index, sink, i64::from(proposal.reviewers_needed), 0);
    }
    network.finish();

    let routed = network.max_flow_min_cost(source, sink);
    if routed == total_minimum {
        return None;
    }
    let reached = network.reachable_from(source);
    let reviewers: Vec<usize> = (0..reviewer_count)
        .filter(|index| reached[proposal_count + *index])
        .collect();
    let proposals = neighbours(problem, usable, |candidate| {
        reached[proposal_count + candidate.reviewer].then_some(candidate.proposal)
    });

    let demand: u64 = reviewers
        .iter()
        .map(|index| u64::from(problem.reviewers[*index].min_proposals))
        .sum();
    let capacity: u64 = proposals
        .iter()
        .map(|index| u64::from(problem.proposals[*index].reviewers_needed))
        .sum();
    let shortfall = (total_minimum - routed) as u64;
    let attainable = demand - shortfall;
    let reviewer_list = reviewer_names(problem, &reviewers);
    let proposal_list = proposal_names(problem, &proposals);

    let message = if proposals.is_empty() {
        format!(
            "Reviewers {reviewer_list} must get at least {demand} proposals but have no candidate proposals."
        )
    } else {
        format!(
            "Reviewers {reviewer_list} must get at least {demand} proposals in total (the sum of their \
             min_proposals), but their candidate proposals {proposal_list} need only {capacity} reviewers in \
             total, and at most {attainable} of these assignments can be made because a reviewer reviews \
             each proposal at most once."
        )
    };
    let suggestion = if proposals.is_empty() {
        format!("Lower min_proposals of {reviewer_list} or add candidates for them.")
    } else {
        format!(
            "Lower min_proposals of {reviewer_list}, raise reviewers_needed of {proposal_list}, or add \
             candidates pairing these reviewers with other proposals."
        )
    };
    Some(Infeasibility {
        kind: InfeasibilityKind::ReviewerMinimum,
        proposals,
        reviewers,
        demand,
        capacity,
        attainable,
        message,
        suggestion,
    })
}

/// Returns the fallback explanation naming everyone, for a problem whose demand and
/// minimum-load checks each pass but that still has no solution.
pub(crate) fn explain_combined(problem: &AssignmentProblem) -> Infeasibility {
    let proposals: Vec<usize> = (0..problem.proposals.len()).collect();
    let reviewers: Vec<usize> = (0..problem.reviewers.len()).collect();
    let demand = problem
        .proposals
        .iter()
        .map(|proposal| u64::from(proposal.reviewers_needed))
        .sum();
    let capacity = problem
        .reviewers
        .iter()
        .map(|reviewer| u64::from(reviewer.max_proposals))
        .sum();
    Infeasibility {
        kind: InfeasibilityKind::ReviewerMinimum,
        proposals,
        reviewers,
        demand,
        capacity,
        attainable: 0,
        message: "The reviewers_needed of every proposal and the min_proposals of every reviewer cannot be \
                  met together, although each can be met alone."
            .to_owned(),
        suggestion: "Lower min_proposals of some reviewers or add candidates.".to_owned(),
    }
}

/// Distinct endpoints, ascending, of the usable candidates that `pick` maps to `Some`.
fn neighbours(
    problem: &AssignmentProblem,
    usable: &[bool],
    pick: impl Fn(&crate::assignment::Candidate) -> Option<usize>,
) -> Vec<usize> {
    let mut found: Vec<usize> = problem
        .candidates
        .iter()
        .zip(usable)
        .filter(|(_, usable)| **usable)
        .filter_map(|(candidate, _)| pick(candidate))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}
