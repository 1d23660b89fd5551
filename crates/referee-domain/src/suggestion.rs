//! Reviewer suggestions: scoring reviewers outside a call's pool against the call, and
//! choosing whom to suggest to its managers.
//!
//! Scores come from [`crate::affinity::score_all`], whose TF-IDF corpus is the candidates'
//! texts plus the target texts of one run. Against several proposals a candidate's affinity,
//! keyword and text scores are the means of the per-proposal scores, so a specialist in one
//! proposal of many scores low. Conflicts of interest play no part in the scores.

use std::collections::BTreeSet;

use crate::affinity::{self, Combination, ExpertiseEntry, KeywordIndex, ReviewerDocument};

/// Number of best-matching proposals a suggestion lists.
pub const TOP_PROPOSALS: usize = 5;

/// Maximum length of one requested keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 100;

/// Minimum affinity of a suggestion when neither the request nor the call's matching
/// configuration sets one.
pub const DEFAULT_THRESHOLD: f64 = 0.1;

/// A reviewer who may be suggested.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub document: ReviewerDocument,
    /// Every expertise entry, `basic` ones included, for matching requested keywords.
    pub expertise: Vec<ExpertiseEntry>,
}

/// Text or texts that the candidates are scored against.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Proposal texts. A candidate scores the mean over all of them.
    Proposals(&'a [String]),
    /// One text, such as the call's name and description. A text without any word yields no
    /// suggestion.
    Text(&'a str),
    /// Requested keywords compared with the candidates' expertise keywords only. The score is
    /// the share of requested keywords the candidate lists, at any proficiency.
    ExpertiseKeywords(&'a [String]),
}

/// A candidate's score for one proposal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProposalMatch {
    /// Index of the proposal in the target.
    pub proposal: usize,
    pub affinity: f64,
    pub keyword: Option<f64>,
    pub text: Option<f64>,
}

/// A candidate to suggest, with scores rounded to 4 decimals. A component score that rounds
/// to 0 is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateScore {
    /// Index of the candidate in the input.
    pub candidate: usize,
    pub affinity: f64,
    pub keyword: Option<f64>,
    pub text: Option<f64>,
    /// Keywords that matched, sorted and without duplicates, as lower-cased tokens joined by
    /// spaces.
    pub matched_keywords: Vec<String>,
    /// The best-matching proposals, best first, at most [`TOP_PROPOSALS`]; empty unless the
    /// target is [`Target::Proposals`].
    pub top_proposals: Vec<ProposalMatch>,
}

/// Scores every candidate against the target and returns those to suggest, highest affinity
/// first (ties in candidate order).
///
/// A candidate is suggested when its affinity is at least `threshold`; against expertise
/// keywords it must also match at least one keyword. `threads` is passed to
/// [`affinity::score_all`].
///
/// NOTE: the pair scores of all candidates × proposals are held in memory at once (about 40
/// bytes per pair), because the TF-IDF corpus must contain every candidate.
pub fn suggest(
    candidates: &[Candidate],
    target: Target<'_>,
    combination: Combination,
    threshold: f64,
    threads: usize,
) -> Vec<CandidateScore> {
    let mut suggested: Vec<CandidateScore> = match target {
        Target::Proposals(texts) => score_proposals(candidates, texts, combination, threads),
        Target::Text(text) => {
            if affinity::tokenize(text).is_empty() {
                return Vec::new();
            }
            score_text(candidates, text, combination, threads)
        }
        Target::ExpertiseKeywords(keywords) => score_expertise(candidates, keywords)
            .into_iter()
            .filter(|score| score.affinity > 0.0)
            .collect(),
    };
    suggested.retain(|score| score.affinity >= threshold);
    suggested.sort_by(|left, right| {
        right
            .affinity
            .total_cmp(&left.affinity)
            .then(left.candidate.cmp(&right.candidate))
    });
    suggested
}

fn documents(candidates: &[Candidate]) -> Vec<ReviewerDocument> {
    candidates
        .iter()
        .map(|candidate| candidate.document.clone())
        .collect()
}

/// `Some(score)` unless the score rounds to 0.
fn nonzero(score: f64) -> Option<f64> {
    let rounded = affinity::round_score(score);
    (rounded > 0.0).then_some(rounded)
}

fn score_proposals(
    candidates: &[Candidate],
    texts: &[String],
    combination: Combination,
    threads: usize,
) -> Vec<CandidateScore> {
    if texts.is_empty() || candidates.is_empty() {
        return Vec::new();
    }
    let pairs = affinity::score_all(&documents(candidates), texts, combination, threads);
    let indexes: Vec<KeywordIndex> = texts.iter().map(|text| KeywordIndex::new(text)).collect();
    let count = texts.len() as f64;

    pairs
        .chunks(texts.len())
        .map(|row| {
            let candidate = row[0].reviewer;
            let mut matched = BTreeSet::new();
            for pair in row.iter().filter(|pair| pair.keyword.is_some()) {
                matched.extend(
                    indexes[pair.proposal].matched_keywords(&candidates[candidate].document),
                );
            }
            let mean =
                |value: fn(&affinity::PairScore) -> f64| row.iter().map(value).sum::<f64>() / count;
            let affinity_mean = affinity::round_score(mean(|pair| pair.affinity));
            let keyword_mean = nonzero(mean(|pair| pair.keyword.unwrap_or(0.0)));
            let text_mean = nonzero(mean(|pair| pair.text.unwrap_or(0.0)));

            let mut best: Vec<ProposalMatch> = row
                .iter()
                .map(|pair| ProposalMatch {
                    proposal: pair.proposal,
                    affinity: pair.affinity,
                    keyword: pair.keyword,
                    text: pair.text,
                })
                .collect();
            best.sort_by(|left, right| {
                right
                    .affinity
                    .total_cmp(&left.affinity)
                    .then(left.proposal.cmp(&right.proposal))
            });
            best.truncate(TOP_PROPOSALS);

            CandidateScore {
                candidate,
                affinity: affinity_mean,
                keyword: keyword_mean,
                text: text_mean,
                matched_keywords: matched.into_iter().collect(),
                top_proposals: best,
            }
        })
        .collect()
}

fn score_text(
    candidates: &[Candidate],
    text: &str,
    combination: Combination,
    threads: usize,
) -> Vec<CandidateScore> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let texts = [text.to_owned()];
    let index = KeywordIndex::new(text);
    affinity::score_all(&documents(candidates), &texts, combination, threads)
        .into_iter()
        .map(|pair| {
            let mut matched = index.matched_keywords(&candidates[pair.reviewer].document);
            matched.sort();
            matched.dedup();
            CandidateScore {
                candidate: pair.reviewer,
                affinity: pair.affinity,
                keyword: pair.keyword,
                text: pair.text,
                matched_keywords: matched,
                top_proposals: Vec::new(),
            }
        })
        .collect()
}

/// Normalises a keyword for comparison: its lower-cased tokens joined by single spaces.
fn normalise(keyword: &str) -> String {
    affinity::tokenize(keyword).join(" ")
}

fn score_expertise(candidates: &[Candidate], keywords: &[String]) -> Vec<CandidateScore> {
    let requested: BTreeSet<String> = keywords
        .iter()
        .map(|keyword| normalise(keyword))
        .filter(|keyword| !keyword.is_empty())
        .collect();
    if requested.is_empty() {
        return Vec::new();
    }

    candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let own: BTreeSet<String> = candidate
                .expertise
                .iter()
                .map(|entry| normalise(&entry.keyword))
                .collect();
            let matched: Vec<String> = requested.intersection(&own).cloned().collect();
            let score = affinity::round_score(matched.len() as f64 / requested.len() as f64);
            CandidateScore {
                candidate: index,
                affinity: score,
                keyword: nonzero(score),
                text: None,
                matched_keywords: matched,
                top_proposals: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::ProficiencyLevel;

    fn candidate(keywords: &[(&str, ProficiencyLevel)], biography: &str) -> Candidate {
        let expertise: Vec<ExpertiseEntry> = keywords
            .iter()
            .map(|(keyword, proficiency)| ExpertiseEntry {
                keyword: (*keyword).to_owned(),
                proficiency: *proficiency,
            })
            .collect();
        Candidate {
            document: ReviewerDocument::new(&expertise, &[], biography, 2026),
            expertise,
        }
    }

    #[test]
    fn proposals_score_is_mean_with_top_list() {
        let candidates = [candidate(
            &[("graph theory", ProficiencyLevel::Expert)],
            "spectral graph theory",
        )];
        let texts = [
            "Spectral graph theory of expanders".to_owned(),
            "Protein folding".to_owned(),
        ];
        let scores = suggest(
            &candidates,
            Target::Proposals(&texts),
            Combination::default(),
            0.0,
            1,
        );
        assert_eq!(scores.len(), 1);
        let score = &scores[0];
        assert_eq!(score.matched_keywords, ["graph theory"]);
        assert_eq!(score.keyword, Some(0.5));
        assert_eq!(score.top_proposals.len(), 2);
        assert_eq!(score.top_proposals[0].proposal, 0);
        let expected = affinity::round_score(
            (score.top_proposals[0].affinity + score.top_proposals[1].affinity) / 2.0,
        );
        assert_eq!(score.affinity, expected);
    }

    #[test]
    fn threshold_filters_and_sorts() {
        let candidates = [
            candidate(&[], "unrelated cooking recipes"),
            candidate(&[("lattice qcd", ProficiencyLevel::Expert)], "lattice qcd"),
        ];
        let texts = ["Lattice QCD on GPUs".to_owned()];
        let all = suggest(
            &candidates,
            Target::Proposals(&texts),
            Combination::default(),
            0.0,
            2,
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].candidate, 1);
        let strict = suggest(
            &candidates,
            Target::Proposals(&texts),
            Combination::default(),
            0.1,
            2,
        );
        assert_eq!(strict.len(), 1);
        assert_eq!(strict[0].candidate, 1);
    }

    #[test]
    fn blank_text_suggests_nobody() {
        let candidates = [candidate(&[], "anything")];
        let scores = suggest(
            &candidates,
            Target::Text(" ,. "),
            Combination::default(),
            0.0,
            1,
        );
        assert!(scores.is_empty());
    }

    #[test]
    fn expertise_keywords_count_every_proficiency() {
        let candidates = [
            candidate(
                &[
                    ("Machine-Learning", ProficiencyLevel::Basic),
                    ("optics", ProficiencyLevel::Expert),
                ],
                "",
            ),
            candidate(&[("astronomy", ProficiencyLevel::Expert)], ""),
        ];
        let requested = ["machine learning".to_owned(), "Lasers".to_owned()];
        let scores = suggest(
            &candidates,
            Target::ExpertiseKeywords(&requested),
            Combination::default(),
            0.0,
            1,
        );
        assert_eq!(scores.len(), 1, "a candidate without a match is left out");
        assert_eq!(scores[0].candidate, 0);
        assert_eq!(scores[0].affinity, 0.5);
        assert_eq!(scores[0].keyword, Some(0.5));
        assert_eq!(scores[0].text, None);
        assert_eq!(scores[0].matched_keywords, ["machine learning"]);
    }
}
