//! Tests of the exact assignment solver: named cases, then random small instances compared
//! with an exhaustive search.

use std::collections::HashMap;

use referee_domain::assignment::{AssignmentProblem, Candidate, ProposalDemand, ReviewerCapacity};
use referee_domain::solver::{
    AFFINITY_SCALE, Algorithm, InfeasibilityKind, SolveOptions, Solved, certificate_holds, solve,
};
use uuid::Uuid;

fn proposal(name: &str, needed: u32) -> ProposalDemand {
    ProposalDemand {
        uuid: Uuid::nil(),
        name: name.to_owned(),
        reviewers_needed: needed,
    }
}

fn reviewer(name: &str, min: u32, max: u32) -> ReviewerCapacity {
    ReviewerCapacity {
        uuid: Uuid::nil(),
        name: name.to_owned(),
        min_proposals: min,
        max_proposals: max,
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

fn options(algorithm: Algorithm, allow_unfilled: bool) -> SolveOptions {
    SolveOptions {
        allow_unfilled,
        algorithm,
    }
}

fn solve_checked(problem: &AssignmentProblem, options: SolveOptions) -> Solved {
    let solved = solve(problem, &options).expect("problem should be feasible");
    assert!(
        certificate_holds(problem, &solved),
        "certificate rejected for {solved:?}"
    );
    solved
}

/// Builds a candidate for every (proposal, reviewer) pair.
fn complete_candidates(
    proposals: usize,
    reviewers: usize,
    mut affinity: impl FnMut(usize, usize) -> f64,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for p in 0..proposals {
        for r in 0..reviewers {
            candidates.push(candidate(p, r, affinity(p, r)));
        }
    }
    candidates
}

#[test]
fn solve_picks_best_total_over_greedy() {
    // Greedy gives proposal 0 reviewer 0 (0.9) and leaves proposal 1 with 0.1. The optimum
    // swaps them for 0.8 + 0.8.
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1)],
        reviewers: vec![reviewer("R0", 0, 1), reviewer("R1", 0, 1)],
        candidates: vec![
            candidate(0, 0, 0.9),
            candidate(0, 1, 0.8),
            candidate(1, 0, 0.8),
            candidate(1, 1, 0.1),
        ],
    };
    let solved = solve_checked(&problem, SolveOptions::default());

    assert_eq!(solved.solution.chosen, vec![1, 2]);
    assert_eq!(solved.objective, 1_600_000);
    assert_eq!(solved.solution.algorithm, "minmax");
    assert!(solved.solution.unfilled.is_empty());
}

#[test]
fn infeasible_demand_names_group() {
    let problem = AssignmentProblem {
        proposals: vec![
            proposal("Alpha", 3),
            proposal("Beta", 3),
            proposal("Gamma", 3),
        ],
        reviewers: vec![reviewer("Ada", 0, 4), reviewer("Bob", 0, 4)],
        candidates: complete_candidates(3, 2, |_, _| 0.5),
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("demand 9 exceeds capacity 8");

    assert_eq!(error.kind, InfeasibilityKind::ProposalDemand);
    assert_eq!(error.proposals, vec![0, 1, 2]);
    assert_eq!(error.reviewers, vec![0, 1]);
    assert_eq!(error.demand, 9);
    assert_eq!(error.capacity, 8);
    assert_eq!(error.attainable, 6);
    for name in ["Alpha", "Beta", "Gamma", "Ada", "Bob"] {
        assert!(
            error.message.contains(name),
            "{name} missing from {:?}",
            error.message
        );
        assert!(
            error.suggestion.contains(name),
            "{name} missing from {:?}",
            error.suggestion
        );
    }
    assert!(error.suggestion.contains("max_proposals"));
    assert!(error.suggestion.contains("reviewers_needed"));
}

#[test]
fn infeasible_demand_names_only_deficient_group() {
    // P0 and P1 share reviewer R0 (max 1); P2 has its own reviewers and is not to blame.
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1), proposal("P2", 2)],
        reviewers: vec![
            reviewer("R0", 0, 1),
            reviewer("R1", 0, 5),
            reviewer("R2", 0, 5),
        ],
        candidates: vec![
            candidate(0, 0, 0.1),
            candidate(1, 0, 0.2),
            candidate(2, 1, 0.3),
            candidate(2, 2, 0.4),
        ],
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("R0 cannot serve both");

    assert_eq!(error.proposals, vec![0, 1]);
    assert_eq!(error.reviewers, vec![0]);
    assert_eq!(error.demand, 2);
    assert_eq!(error.capacity, 1);
    assert!(!error.message.contains("P2"));
}

#[test]
fn infeasible_min_load_names_reviewer() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1)],
        reviewers: vec![reviewer("Busy", 3, 5), reviewer("Free", 0, 5)],
        candidates: complete_candidates(2, 2, |_, _| 0.5),
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("Busy needs 3 of 2 proposals");

    assert_eq!(error.kind, InfeasibilityKind::ReviewerMinimum);
    assert_eq!(error.reviewers, vec![0]);
    assert_eq!(error.proposals, vec![0, 1]);
    assert_eq!(error.demand, 3);
    assert_eq!(error.attainable, 2);
    assert!(error.message.contains("Busy"));
    assert!(error.suggestion.contains("min_proposals"));
}

#[test]
fn infeasible_inverted_bounds() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1)],
        reviewers: vec![reviewer("Odd", 2, 1)],
        candidates: vec![candidate(0, 0, 0.5)],
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("min above max");

    assert_eq!(error.kind, InfeasibilityKind::ReviewerMinimum);
    assert_eq!(error.reviewers, vec![0]);
    assert!(error.message.contains("Odd"));
}

#[test]
fn hungarian_ignores_min_loads() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1)],
        reviewers: vec![reviewer("Keen", 1, 1), reviewer("Best", 0, 1)],
        candidates: vec![candidate(0, 0, 0.1), candidate(0, 1, 0.9)],
    };
    let minmax = solve_checked(&problem, options(Algorithm::MinMax, false));
    let hungarian = solve_checked(&problem, options(Algorithm::Hungarian, false));

    assert_eq!(minmax.solution.chosen, vec![0]);
    assert_eq!(hungarian.solution.chosen, vec![1]);
    assert_eq!(hungarian.solution.algorithm, "hungarian");
}

#[test]
fn fairflow_raises_weakest_pair() {
    // Best total: P0-R0 (1.0) and P1-R1 (0.1) = 1.1. Fairflow: P0-R1 (0.5), P1-R0 (0.5) = 1.0.
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1)],
        reviewers: vec![reviewer("R0", 0, 1), reviewer("R1", 0, 1)],
        candidates: vec![
            candidate(0, 0, 1.0),
            candidate(0, 1, 0.5),
            candidate(1, 0, 0.5),
            candidate(1, 1, 0.1),
        ],
    };
    let minmax = solve_checked(&problem, options(Algorithm::MinMax, false));
    let fair = solve_checked(&problem, options(Algorithm::FairFlow, false));

    assert_eq!(minmax.solution.chosen, vec![0, 3]);
    assert_eq!(fair.solution.chosen, vec![1, 2]);
    assert_eq!(fair.certificate.min_affinity, Some(500_000));
    assert_eq!(fair.solution.algorithm, "fairflow");
}

#[test]
fn unfilled_reports_short_proposals() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 2), proposal("P1", 1), proposal("P2", 1)],
        reviewers: vec![reviewer("R0", 0, 1), reviewer("R1", 0, 1)],
        candidates: vec![
            candidate(0, 0, 0.9),
            candidate(1, 0, 0.2),
            candidate(1, 1, 0.3),
        ],
    };
    assert!(solve(&problem, &SolveOptions::default()).is_err());
    let solved = solve_checked(&problem, options(Algorithm::MinMax, true));

    // Coverage first: two pairs (P0-R0, P1-R1) beat any single pair.
    assert_eq!(solved.solution.chosen, vec![0, 2]);
    let unfilled = &solved.solution.unfilled;
    assert_eq!(unfilled.len(), 2);
    assert_eq!(
        (
            unfilled[0].proposal,
            unfilled[0].assigned,
            unfilled[0].needed
        ),
        (0, 1, 2)
    );
    assert_eq!(
        (
            unfilled[1].proposal,
            unfilled[1].assigned,
            unfilled[1].needed
        ),
        (2, 0, 1)
    );
    assert_eq!(unfilled[1].reason, "No eligible reviewers available");
}

#[test]
fn unfilled_prefers_coverage_over_affinity() {
    // One pair of affinity 1.0 blocks two pairs of 0.01 each; coverage wins.
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1)],
        reviewers: vec![reviewer("R0", 0, 1), reviewer("R1", 0, 1)],
        candidates: vec![
            candidate(0, 0, 1.0),
            candidate(1, 0, 0.01),
            candidate(0, 1, 0.01),
        ],
    };
    let solved = solve_checked(&problem, options(Algorithm::MinMax, true));

    assert_eq!(solved.solution.chosen, vec![1, 2]);
    assert!(solved.solution.unfilled.is_empty());
}

#[test]
fn unfilled_still_enforces_min_loads() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1)],
        reviewers: vec![reviewer("R0", 2, 2)],
        candidates: vec![candidate(0, 0, 0.5)],
    };
    let error =
        solve(&problem, &options(Algorithm::MinMax, true)).expect_err("R0 needs two proposals");

    assert_eq!(error.kind, InfeasibilityKind::ReviewerMinimum);
}

#[test]
fn duplicate_pairs_used_once() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 2)],
        reviewers: vec![reviewer("R0", 0, 2), reviewer("R1", 0, 2)],
        candidates: vec![
            candidate(0, 0, 0.2),
            candidate(0, 0, 0.9),
            candidate(0, 1, 0.1),
        ],
    };
    let solved = solve_checked(&problem, SolveOptions::default());

    assert_eq!(solved.solution.chosen, vec![1, 2]);
}

#[test]
fn invalid_candidate_index_rejected() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1)],
        reviewers: vec![reviewer("R0", 0, 1)],
        candidates: vec![candidate(0, 3, 0.5)],
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("reviewer 3 does not exist");

    assert_eq!(error.kind, InfeasibilityKind::InvalidProblem);
    assert!(error.message.contains("reviewer 3"));
}

#[test]
fn non_finite_affinity_rejected() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1)],
        reviewers: vec![reviewer("R0", 0, 1)],
        candidates: vec![candidate(0, 0, f64::NAN)],
    };
    let error = solve(&problem, &SolveOptions::default()).expect_err("NaN affinity");

    assert_eq!(error.kind, InfeasibilityKind::InvalidProblem);
}

#[test]
fn empty_problem_solves() {
    let solved = solve_checked(&AssignmentProblem::default(), SolveOptions::default());

    assert!(solved.solution.chosen.is_empty());
    assert_eq!(solved.objective, 0);
}

#[test]
fn certificate_rejects_tampering() {
    let problem = AssignmentProblem {
        proposals: vec![proposal("P0", 1), proposal("P1", 1)],
        reviewers: vec![reviewer("R0", 0, 1), reviewer("R1", 0, 1)],
        candidates: vec![
            candidate(0, 0, 0.9),
            candidate(0, 1, 0.8),
            candidate(1, 0, 0.8),
            candidate(1, 1, 0.1),
        ],
    };
    let solved = solve_checked(&problem, SolveOptions::default());

    let mut worse = solved.clone();
    worse.solution.chosen = vec![0, 3];
    worse.objective = 1_000_000;
    assert!(
        !certificate_holds(&problem, &worse),
        "a suboptimal assignment passed"
    );

    let mut shifted = solved.clone();
    shifted.certificate.reviewer_potentials[0] += 10_000_000;
    assert!(
        !certificate_holds(&problem, &shifted),
        "inconsistent potentials passed"
    );

    let mut misreported = solved.clone();
    misreported.objective += 1;
    assert!(
        !certificate_holds(&problem, &misreported),
        "a wrong objective passed"
    );
}

#[test]
fn dense_instance_certified() {
    let mut random = SplitMix64(7);
    let proposals: Vec<ProposalDemand> = (0..120)
        .map(|index| proposal(&format!("P{index}"), 3))
        .collect();
    let reviewers: Vec<ReviewerCapacity> = (0..40)
        .map(|index| reviewer(&format!("R{index}"), 5, 12))
        .collect();
    let candidates = complete_candidates(120, 40, |_, _| random.below(1_000) as f64 / 1_000.0);
    let problem = AssignmentProblem {
        proposals,
        reviewers,
        candidates,
    };

    for algorithm in [Algorithm::MinMax, Algorithm::Hungarian, Algorithm::FairFlow] {
        let solved = solve_checked(&problem, options(algorithm, false));
        assert_eq!(solved.solution.chosen.len(), 360);
        assert_solution_within_bounds(&problem, &solved, algorithm, false);
    }
}

#[test]
fn unfilled_sparse_instance_certified() {
    // 400 proposals need 1,200 reviewers in total, but 150 reviewers with 1 to 6 proposals
    // each and 6 candidates per proposal leave some of them short.
    let mut random = SplitMix64(11);
    let proposals: Vec<ProposalDemand> = (0..400)
        .map(|index| proposal(&format!("P{index}"), 3))
        .collect();
    let reviewers: Vec<ReviewerCapacity> = (0..150)
        .map(|index| {
            let max = 1 + random.below(6) as u32;
            let min = if index % 5 == 0 { 1 } else { 0 };
            reviewer(&format!("R{index}"), min, max)
        })
        .collect();
    let mut candidates = Vec::new();
    for p in 0..400 {
        for _ in 0..6 {
            candidates.push(candidate(
                p,
                random.below(150) as usize,
                random.below(1_000) as f64 / 1_000.0,
            ));
        }
    }
    let problem = AssignmentProblem {
        proposals,
        reviewers,
        candidates,
    };

    for algorithm in [Algorithm::MinMax, Algorithm::Hungarian, Algorithm::FairFlow] {
        let solved = solve_checked(&problem, options(algorithm, true));
        assert!(
            !solved.solution.unfilled.is_empty(),
            "{algorithm:?} filled every proposal"
        );
        assert_solution_within_bounds(&problem, &solved, algorithm, true);
        let again = solve(&problem, &options(algorithm, true)).expect("second solve");
        assert_eq!(again, solved, "{algorithm:?} is not deterministic");
    }
}

// ---------------------------------------------------------------------------------------
// Random small instances against exhaustive search.

/// SplitMix64: a fixed-seed generator so that every run tests the same instances.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in `0..bound` (the modulo bias is irrelevant for tests).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn random_problem(random: &mut SplitMix64) -> AssignmentProblem {
    let proposal_count = 1 + random.below(6) as usize;
    let reviewer_count = 1 + random.below(6) as usize;
    let density = 20 + random.below(70);
    let coarse_affinities = random.below(2) == 0;

    let proposals = (0..proposal_count)
        .map(|index| proposal(&format!("P{index}"), random.below(4) as u32))
        .collect();
    let reviewers = (0..reviewer_count)
        .map(|index| {
            let max = random.below(5) as u32;
            let min = if random.below(3) == 0 {
                random.below(u64::from(max.min(2)) + 1) as u32
            } else {
                0
            };
            reviewer(&format!("R{index}"), min, max)
        })
        .collect();

    let mut candidates = Vec::new();
    for p in 0..proposal_count {
        for r in 0..reviewer_count {
            if random.below(100) < density {
                // Coarse affinities create many ties; fine ones exercise the scaling.
                let affinity = if coarse_affinities {
                    random.below(14) as f64 / 10.0 - 0.3
                } else {
                    random.below(1_000_000_000) as f64 / 1_000_000_000.0
                };
                candidates.push(candidate(p, r, affinity));
            }
        }
    }
    // Candidate order must not matter for the optimum.
    for index in (1..candidates.len()).rev() {
        let other = random.below(index as u64 + 1) as usize;
        candidates.swap(index, other);
    }
    AssignmentProblem {
        proposals,
        reviewers,
        candidates,
    }
}

fn scaled(affinity: f64) -> i64 {
    (affinity * AFFINITY_SCALE).round() as i64
}

/// Exhaustive search over every subset of each proposal's candidates, memoised on the
/// reviewer loads. Returns the lexicographic maximum of (assigned pairs, total scaled
/// affinity), or `None` when no assignment meets the limits.
/// Best (assigned pairs, total) per (next proposal, reviewer loads).
type Memo = HashMap<(usize, Vec<u32>), Option<(i64, i64)>>;

struct BruteForce<'a> {
    problem: &'a AssignmentProblem,
    by_proposal: Vec<Vec<usize>>,
    exact_demands: bool,
    enforce_min_loads: bool,
    memo: Memo,
}

impl<'a> BruteForce<'a> {
    fn best(
        problem: &'a AssignmentProblem,
        min_affinity: i64,
        exact_demands: bool,
        enforce_min_loads: bool,
    ) -> Option<(i64, i64)> {
        let mut by_proposal = vec![Vec::new(); problem.proposals.len()];
        for (index, candidate) in problem.candidates.iter().enumerate() {
            if scaled(candidate.affinity) >= min_affinity {
                by_proposal[candidate.proposal].push(index);
            }
        }
        let mut search = BruteForce {
            problem,
            by_proposal,
            exact_demands,
            enforce_min_loads,
            memo: HashMap::new(),
        };
        search.search(0, vec![0; problem.reviewers.len()])
    }

    fn search(&mut self, proposal: usize, loads: Vec<u32>) -> Option<(i64, i64)> {
        if proposal == self.problem.proposals.len() {
            let loads_ok = self
                .problem
                .reviewers
                .iter()
                .zip(&loads)
                .all(|(reviewer, load)| !self.enforce_min_loads || *load >= reviewer.min_proposals);
            return loads_ok.then_some((0, 0));
        }
        if let Some(known) = self.memo.get(&(proposal, loads.clone())) {
            return *known;
        }

        let options = self.by_proposal[proposal].clone();
        let needed = self.problem.proposals[proposal].reviewers_needed;
        let mut best: Option<(i64, i64)> = None;
        for mask in 0u32..(1 << options.len()) {
            let size = mask.count_ones();
            if size > needed || (self.exact_demands && size != needed) {
                continue;
            }
            let mut next = loads.clone();
            let mut total = 0;
            let mut within = true;
            for (bit, index) in options.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    let candidate = &self.problem.candidates[*index];
                    next[candidate.reviewer] += 1;
                    within &= next[candidate.reviewer]
                        <= self.problem.reviewers[candidate.reviewer].max_proposals;
                    total += scaled(candidate.affinity);
                }
            }
            if !within {
                continue;
            }
            if let Some((count, rest)) = self.search(proposal + 1, next) {
                let value = (count + i64::from(size), rest + total);
                if best.is_none_or(|current| value > current) {
                    best = Some(value);
                }
            }
        }
        self.memo.insert((proposal, loads), best);
        best
    }
}

/// Expected (assigned pairs, weakest pair or `i64::MAX` when none, total) for fairflow, or
/// (assigned pairs, 0, total) for the others; `None` when infeasible.
fn brute_force_key(
    problem: &AssignmentProblem,
    algorithm: Algorithm,
    allow_unfilled: bool,
) -> Option<(i64, i64, i64)> {
    let enforce_min_loads = algorithm != Algorithm::Hungarian;
    let exact = !allow_unfilled;
    let (count, total) = BruteForce::best(problem, i64::MIN, exact, enforce_min_loads)?;
    if algorithm != Algorithm::FairFlow {
        return Some((count, 0, total));
    }
    if count == 0 {
        return Some((0, i64::MAX, total));
    }
    let mut thresholds: Vec<i64> = problem
        .candidates
        .iter()
        .map(|candidate| scaled(candidate.affinity))
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    let mut answer = None;
    for threshold in thresholds {
        match BruteForce::best(problem, threshold, exact, enforce_min_loads) {
            Some((restricted_count, restricted_total)) if restricted_count == count => {
                answer = Some((count, threshold, restricted_total));
            }
            _ => break,
        }
    }
    answer
}

fn solver_key(
    problem: &AssignmentProblem,
    solved: &Solved,
    algorithm: Algorithm,
) -> (i64, i64, i64) {
    let chosen = &solved.solution.chosen;
    let count = chosen.len() as i64;
    if algorithm != Algorithm::FairFlow {
        return (count, 0, solved.objective);
    }
    let weakest = chosen
        .iter()
        .map(|index| scaled(problem.candidates[*index].affinity))
        .min()
        .unwrap_or(i64::MAX);
    (count, weakest, solved.objective)
}

fn assert_solution_within_bounds(
    problem: &AssignmentProblem,
    solved: &Solved,
    algorithm: Algorithm,
    allow_unfilled: bool,
) {
    let mut assigned = vec![0u32; problem.proposals.len()];
    let mut load = vec![0u32; problem.reviewers.len()];
    let mut pairs = Vec::new();
    for index in &solved.solution.chosen {
        let candidate = problem
            .candidates
            .get(*index)
            .expect("chosen index is a candidate");
        assigned[candidate.proposal] += 1;
        load[candidate.reviewer] += 1;
        pairs.push((candidate.proposal, candidate.reviewer));
    }
    pairs.sort_unstable();
    let distinct = pairs.len();
    pairs.dedup();
    assert_eq!(pairs.len(), distinct, "a pair was assigned twice");

    for (index, proposal) in problem.proposals.iter().enumerate() {
        if allow_unfilled {
            assert!(
                assigned[index] <= proposal.reviewers_needed,
                "proposal {index} over-assigned"
            );
        } else {
            assert_eq!(
                assigned[index], proposal.reviewers_needed,
                "proposal {index} demand not met"
            );
        }
    }
    for (index, reviewer) in problem.reviewers.iter().enumerate() {
        assert!(
            load[index] <= reviewer.max_proposals,
            "reviewer {index} above max_proposals"
        );
        if algorithm != Algorithm::Hungarian {
            assert!(
                load[index] >= reviewer.min_proposals,
                "reviewer {index} below min_proposals"
            );
        }
    }
}

#[test]
fn random_instances_match_brute_force() {
    let mut random = SplitMix64(20_240_601);
    let modes = [
        (Algorithm::MinMax, false),
        (Algorithm::MinMax, true),
        (Algorithm::Hungarian, false),
        (Algorithm::Hungarian, true),
        (Algorithm::FairFlow, false),
        (Algorithm::FairFlow, true),
    ];
    let mut feasible_runs = 0;
    let mut infeasible_runs = 0;

    for instance in 0..5_000 {
        let problem = random_problem(&mut random);
        for (algorithm, allow_unfilled) in modes {
            let context = format!(
                "instance {instance}, {algorithm:?}, allow_unfilled {allow_unfilled}: {problem:?}"
            );
            let expected = brute_force_key(&problem, algorithm, allow_unfilled);
            let outcome = solve(&problem, &options(algorithm, allow_unfilled));

            match (expected, outcome) {
                (Some(expected), Ok(solved)) => {
                    feasible_runs += 1;
                    assert_eq!(
                        solver_key(&problem, &solved, algorithm),
                        expected,
                        "objective differs, {context}"
                    );
                    assert_solution_within_bounds(&problem, &solved, algorithm, allow_unfilled);
                    assert!(
                        certificate_holds(&problem, &solved),
                        "certificate rejected, {context}"
                    );
                    let again =
                        solve(&problem, &options(algorithm, allow_unfilled)).expect("second solve");
                    assert_eq!(again, solved, "second solve differs, {context}");
                }
                (None, Err(error)) => {
                    infeasible_runs += 1;
                    assert_ne!(error.kind, InfeasibilityKind::InvalidProblem, "{context}");
                    assert!(
                        error.attainable < error.demand,
                        "no shortfall in {error:?}, {context}"
                    );
                    assert!(
                        !error.proposals.is_empty() || !error.reviewers.is_empty(),
                        "empty group, {context}"
                    );
                }
                (Some(_), Err(error)) => {
                    panic!("solver reported {error:?} for a feasible {context}")
                }
                (None, Ok(solved)) => {
                    panic!("solver returned {solved:?} for an infeasible {context}")
                }
            }
        }
    }
    // Guard against a generator that only produces one kind of instance.
    assert!(feasible_runs > 5_000, "only {feasible_runs} feasible runs");
    assert!(
        infeasible_runs > 5_000,
        "only {infeasible_runs} infeasible runs"
    );
}

// ---------------------------------------------------------------------------------------
// Timing runs, ignored by default. Run in release:
// `cargo test --release -p referee-domain --test solver -- --ignored --nocapture`

/// Builds `proposals` x `reviewers` with `per_proposal` random candidates each (all reviewers
/// when `per_proposal >= reviewers`), 3 reviewers per proposal and loads `min..=max`.
fn timing_problem(
    proposals: usize,
    reviewers: usize,
    per_proposal: usize,
    min: u32,
    max: u32,
) -> AssignmentProblem {
    let mut random = SplitMix64(42);
    let mut candidates = Vec::with_capacity(proposals * per_proposal.min(reviewers));
    for p in 0..proposals {
        if per_proposal >= reviewers {
            for r in 0..reviewers {
                candidates.push(candidate(
                    p,
                    r,
                    random.below(1_000_000) as f64 / 1_000_000.0,
                ));
            }
        } else {
            let mut picked = std::collections::BTreeSet::new();
            while picked.len() < per_proposal {
                picked.insert(random.below(reviewers as u64) as usize);
            }
            for r in picked {
                candidates.push(candidate(
                    p,
                    r,
                    random.below(1_000_000) as f64 / 1_000_000.0,
                ));
            }
        }
    }
    AssignmentProblem {
        proposals: (0..proposals)
            .map(|index| proposal(&format!("P{index}"), 3))
            .collect(),
        reviewers: (0..reviewers)
            .map(|index| reviewer(&format!("R{index}"), min, max))
            .collect(),
        candidates,
    }
}

fn time_solve(
    label: &str,
    problem: &AssignmentProblem,
    algorithm: Algorithm,
    allow_unfilled: bool,
) {
    let started = std::time::Instant::now();
    let solved =
        solve(problem, &options(algorithm, allow_unfilled)).expect("timing instance is feasible");
    let elapsed = started.elapsed();
    let checked = std::time::Instant::now();
    assert!(certificate_holds(problem, &solved));
    println!(
        "{label} {}{}: {} pairs, objective {}, solve {:.2} s, certificate check {:.3} s",
        algorithm.name(),
        if allow_unfilled {
            " allow_unfilled"
        } else {
            ""
        },
        solved.solution.chosen.len(),
        solved.objective,
        elapsed.as_secs_f64(),
        checked.elapsed().as_secs_f64()
    );
}

#[test]
#[ignore = "timing run; use a release build"]
fn timing_dense_1000_by_300() {
    let problem = timing_problem(1_000, 300, 300, 8, 12);
    for algorithm in [Algorithm::MinMax, Algorithm::Hungarian, Algorithm::FairFlow] {
        time_solve("dense 1000x300", &problem, algorithm, false);
    }
}

#[test]
#[ignore = "timing run; use a release build"]
fn timing_sparse_neurips_size() {
    let size: usize = std::env::var("SOLVER_TIMING_PROPOSALS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(12_000);
    let reviewers = size * 13 / 12;
    let problem = timing_problem(size, reviewers, 200, 0, 6);
    let label = format!("sparse {size}x{reviewers}x200");
    for algorithm in [Algorithm::MinMax, Algorithm::Hungarian, Algorithm::FairFlow] {
        time_solve(&label, &problem, algorithm, false);
    }
    time_solve(&label, &problem, Algorithm::MinMax, true);
}
