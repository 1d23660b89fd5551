//! The assignment problem that `generate-assignments` solves: which reviewer gets which
//! proposal. The store builds an [`AssignmentProblem`] from the call's proposals, pool,
//! workloads, conflicts and affinities; a solver turns it into an [`AssignmentSolution`].

use uuid::Uuid;

/// A proposal that needs reviewers.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalDemand {
    pub uuid: Uuid,
    pub name: String,
    /// Reviewers this proposal must get in this run.
    pub reviewers_needed: u32,
}

/// A reviewer (pool entry) that can take proposals.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerCapacity {
    /// The pool entry.
    pub uuid: Uuid,
    pub name: String,
    /// Fewest proposals this reviewer should get in this run.
    pub min_proposals: u32,
    /// Most proposals this reviewer may get in this run: the workload limit minus open
    /// assignments, never negative.
    pub max_proposals: u32,
}

/// A pair that may be assigned, with its affinity (missing affinities count as 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index into [`AssignmentProblem::proposals`].
    pub proposal: usize,
    /// Index into [`AssignmentProblem::reviewers`].
    pub reviewer: usize,
    pub affinity: f64,
    /// Whether an affinity was computed for the pair (items record `null` otherwise).
    pub has_affinity: bool,
}

/// Everything a solver needs. Pairs not listed in `candidates` are forbidden: a blocking
/// conflict of interest, an unknown conflict status, or an existing item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssignmentProblem {
    pub proposals: Vec<ProposalDemand>,
    pub reviewers: Vec<ReviewerCapacity>,
    pub candidates: Vec<Candidate>,
}

/// A proposal that did not get all the reviewers it needs, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfilled {
    pub proposal: usize,
    pub assigned: u32,
    pub needed: u32,
    pub reason: String,
}

/// The chosen pairs (indices into the problem's candidates) and the proposals left short.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssignmentSolution {
    /// Indices into [`AssignmentProblem::candidates`].
    pub chosen: Vec<usize>,
    pub unfilled: Vec<Unfilled>,
    /// Name of the algorithm that produced the solution.
    pub algorithm: String,
}

impl AssignmentSolution {
    /// Sum of the affinities of the chosen pairs.
    pub fn objective(&self, problem: &AssignmentProblem) -> f64 {
        self.chosen
            .iter()
            .map(|index| problem.candidates[*index].affinity)
            .sum()
    }
}

/// Assigns greedily, proposal by proposal in the given order: the highest-affinity candidates
/// whose reviewer still has capacity, ties broken by reviewer order. Proposals that cannot be
/// filled are reported in `unfilled`. Minimum loads are not enforced.
pub fn solve_greedy(problem: &AssignmentProblem) -> AssignmentSolution {
    let mut remaining: Vec<u32> = problem
        .reviewers
        .iter()
        .map(|reviewer| reviewer.max_proposals)
        .collect();
    let mut by_proposal: Vec<Vec<usize>> = vec![Vec::new(); problem.proposals.len()];
    for (index, candidate) in problem.candidates.iter().enumerate() {
        by_proposal[candidate.proposal].push(index);
    }

    let mut solution = AssignmentSolution {
        algorithm: "greedy".to_owned(),
        ..AssignmentSolution::default()
    };
    for (proposal_index, proposal) in problem.proposals.iter().enumerate() {
        let candidates = &mut by_proposal[proposal_index];
        candidates.sort_by(|left, right| {
            let (left, right) = (&problem.candidates[*left], &problem.candidates[*right]);
            right
                .affinity
                .total_cmp(&left.affinity)
                .then(left.reviewer.cmp(&right.reviewer))
        });

        let mut assigned = 0;
        for candidate_index in candidates.iter() {
            if assigned == proposal.reviewers_needed {
                break;
            }
            let reviewer = problem.candidates[*candidate_index].reviewer;
            if remaining[reviewer] > 0 {
                remaining[reviewer] -= 1;
                assigned += 1;
                solution.chosen.push(*candidate_index);
            }
        }

        if assigned < proposal.reviewers_needed {
            let reason = if candidates.is_empty() {
                "No eligible reviewers available".to_owned()
            } else {
                format!(
                    "Could not find enough eligible reviewers: {assigned} of {} assigned",
                    proposal.reviewers_needed
                )
            };
            solution.unfilled.push(Unfilled {
                proposal: proposal_index,
                assigned,
                needed: proposal.reviewers_needed,
                reason,
            });
        }
    }
    solution
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reviewer(max: u32) -> ReviewerCapacity {
        ReviewerCapacity {
            uuid: Uuid::now_v7(),
            name: String::new(),
            min_proposals: 0,
            max_proposals: max,
        }
    }

    fn proposal(needed: u32) -> ProposalDemand {
        ProposalDemand {
            uuid: Uuid::now_v7(),
            name: String::new(),
            reviewers_needed: needed,
        }
    }

    fn candidate(proposal: usize, reviewer: usize, affinity: f64) -> Candidate {
        Candidate {
            proposal,
            reviewer,
            affinity,
            has_affinity: true,
        }
    }

    #[test]
    fn greedy_respects_capacity_and_reports_shortfall() {
        let problem = AssignmentProblem {
            proposals: vec![proposal(2), proposal(2)],
            reviewers: vec![reviewer(1), reviewer(2)],
            candidates: vec![
                candidate(0, 0, 0.9),
                candidate(0, 1, 0.5),
                candidate(1, 0, 0.8),
                candidate(1, 1, 0.7),
            ],
        };
        let solution = solve_greedy(&problem);

        assert_eq!(solution.chosen, vec![0, 1, 3]);
        assert_eq!(solution.unfilled.len(), 1);
        assert_eq!(solution.unfilled[0].proposal, 1);
        assert_eq!(solution.unfilled[0].assigned, 1);
    }

    #[test]
    fn greedy_never_uses_forbidden_pairs() {
        let problem = AssignmentProblem {
            proposals: vec![proposal(1)],
            reviewers: vec![reviewer(5), reviewer(5)],
            candidates: vec![candidate(0, 1, 0.1)],
        };
        let solution = solve_greedy(&problem);
        assert_eq!(solution.chosen, vec![0]);
    }
}
