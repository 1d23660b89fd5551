//! Affinity of a reviewer for a proposal: a keyword score, a TF-IDF text score and their
//! combination by the call's matching configuration.
//!
//! Tokens are the maximal runs of Unicode letters and digits of the lower-cased text, so
//! "h2o", "gpt2" and "naïve" are tokens and "state-of-the-art" is four tokens. Keywords match
//! whole tokens or whole token sequences: the keyword "ai" matches "AI-based" but not
//! "maintain", and "machine learning" matches "machine-learning" but not "learning machines".
//! Lower-casing is not full case folding, so "größe" and "GRÖSSE" stay different.
//!
//! The text score is the cosine of two TF-IDF vectors built over one corpus: every non-empty
//! reviewer and proposal document of the run. TF is the term count divided by the document's
//! term count, IDF is the smoothed `ln((1 + N) / (1 + df)) + 1`, which stays positive even for a
//! term found in every document, and each vector is L2-normalised, so the cosine is a sparse dot
//! product. Scores lie in [0, 1] and are rounded to 4 decimals.

use std::collections::HashMap;

use crate::enums::{AffinityMethod, ProficiencyLevel};

/// Words left out of TF-IDF documents because they carry no topic.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "in", "on", "at", "to", "for", "of", "with", "by",
    "from", "as", "is", "was", "are", "were", "been", "be", "have", "has", "had", "do", "does",
    "did", "will", "would", "could", "should", "may", "might", "must", "shall", "can", "this",
    "that", "these", "those", "it", "its", "we", "our", "they", "their",
];

/// Terms of at most this many characters are left out of TF-IDF documents. Keywords are not
/// affected: an expertise keyword "ai" still matches the token "ai".
const MAX_SHORT_TERM_CHARS: usize = 2;

/// Publications older than this many years before the current year do not describe a reviewer.
pub const PUBLICATION_LOOKBACK_YEARS: i32 = 5;

/// Splits text into lower-cased tokens: maximal runs of Unicode letters and digits.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for character in text.chars() {
        if character.is_alphanumeric() {
            current.extend(character.to_lowercase());
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Tokens of a text that count as TF-IDF terms: no stop-words and no terms of two characters
/// or fewer.
pub fn terms(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|token| token.chars().count() > MAX_SHORT_TERM_CHARS)
        .filter(|token| !STOP_WORDS.contains(&token.as_str()))
        .collect()
}

/// One expertise entry of a reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpertiseEntry {
    pub keyword: String,
    pub proficiency: ProficiencyLevel,
}

/// One publication of a reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationEntry {
    pub title: String,
    pub abstract_text: String,
    pub year: Option<i32>,
    pub excluded_from_matching: bool,
}

impl PublicationEntry {
    /// Returns whether the publication describes the reviewer in `current_year`: it is not
    /// excluded and appeared in the last five years. A publication without a year does not count.
    pub fn is_recent(&self, current_year: i32) -> bool {
        !self.excluded_from_matching
            && self
                .year
                .is_some_and(|year| year >= current_year - PUBLICATION_LOOKBACK_YEARS)
    }
}

/// A keyword with the weight its proficiency gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedKeyword {
    /// The keyword's tokens; it matches where they appear in this order, side by side.
    pub tokens: Vec<String>,
    pub weight: f64,
}

/// Input of one reviewer's affinities: weighted keywords and a text.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerDocument {
    pub keywords: Vec<WeightedKeyword>,
    pub text: String,
}

impl ReviewerDocument {
    /// Builds the keywords and the text of a reviewer.
    ///
    /// Keywords: `expert` entries weigh 1.0, `familiar` 0.7, and `basic` entries are left out.
    /// Text: each keyword repeated by proficiency (expert three times, familiar twice, basic
    /// once), then the title and abstract of each recent publication, then the biography.
    pub fn new(
        expertise: &[ExpertiseEntry],
        publications: &[PublicationEntry],
        biography: &str,
        current_year: i32,
    ) -> Self {
        let keywords = expertise
            .iter()
            .filter_map(|entry| {
                let weight = match entry.proficiency {
                    ProficiencyLevel::Expert => 1.0,
                    ProficiencyLevel::Familiar => 0.7,
                    ProficiencyLevel::Basic => return None,
                };
                let tokens = tokenize(&entry.keyword);
                (!tokens.is_empty()).then_some(WeightedKeyword { tokens, weight })
            })
            .collect();

        let mut parts: Vec<&str> = Vec::new();
        for entry in expertise {
            let repeats = match entry.proficiency {
                ProficiencyLevel::Expert => 3,
                ProficiencyLevel::Familiar => 2,
                ProficiencyLevel::Basic => 1,
            };
            parts.extend(std::iter::repeat_n(entry.keyword.as_str(), repeats));
        }
        for publication in publications
            .iter()
            .filter(|publication| publication.is_recent(current_year))
        {
            parts.push(&publication.title);
            parts.push(&publication.abstract_text);
        }
        parts.push(biography);

        Self {
            keywords,
            text: parts.join(" "),
        }
    }
}

/// Joins a proposal's name, summary and description into its text.
pub fn proposal_text(name: &str, project_summary: &str, description: &str) -> String {
    [name, project_summary, description].join(" ")
}

/// Rule that combines the component scores into the affinity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Combination {
    pub method: AffinityMethod,
    pub keyword_weight: f64,
    pub text_weight: f64,
}

impl Default for Combination {
    fn default() -> Self {
        Self {
            method: AffinityMethod::Combined,
            keyword_weight: 0.4,
            text_weight: 0.6,
        }
    }
}

impl Combination {
    /// Combines the two component scores into the affinity, clamped to [0, 1].
    pub fn combine(&self, keyword: f64, text: f64) -> f64 {
        let combined = match self.method {
            AffinityMethod::Keyword => keyword,
            AffinityMethod::Tfidf => text,
            AffinityMethod::Combined => self.keyword_weight * keyword + self.text_weight * text,
        };
        combined.clamp(0.0, 1.0)
    }
}

/// The scores of one reviewer for one proposal, rounded to 4 decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScore {
    /// Index of the reviewer in the input.
    pub reviewer: usize,
    /// Index of the proposal in the input.
    pub proposal: usize,
    pub affinity: f64,
    /// `None` when the rounded keyword score is 0.
    pub keyword: Option<f64>,
    /// `None` when the rounded text score is 0.
    pub text: Option<f64>,
}

/// Rounds a score to 4 decimals.
pub fn round_score(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

/// A sparse TF-IDF vector: (term id, weight) sorted by term id, L2-normalised; empty for a
/// document without terms.
type SparseVector = Vec<(u32, f64)>;

/// Cosine of two L2-normalised sparse vectors: the dot product over shared term ids.
fn cosine(left: &SparseVector, right: &SparseVector) -> f64 {
    let (mut i, mut j) = (0, 0);
    let mut dot = 0.0;
    while i < left.len() && j < right.len() {
        match left[i].0.cmp(&right[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += left[i].1 * right[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot.clamp(0.0, 1.0)
}

/// Builds the TF-IDF vectors of all documents over one corpus: the documents with at least
/// one term.
fn tfidf_vectors(documents: &[Vec<String>]) -> Vec<SparseVector> {
    let mut term_ids: HashMap<&str, u32> = HashMap::new();
    let mut counted: Vec<Vec<(u32, u32)>> = Vec::with_capacity(documents.len());
    for document in documents {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for term in document {
            let next_id = u32::try_from(term_ids.len()).expect("fewer than 2^32 distinct terms");
            let id = *term_ids.entry(term.as_str()).or_insert(next_id);
            *counts.entry(id).or_default() += 1;
        }
        let mut counts: Vec<(u32, u32)> = counts.into_iter().collect();
        counts.sort_unstable_by_key(|(id, _)| *id);
        counted.push(counts);
    }

    let mut document_frequency = vec![0u32; term_ids.len()];
    let mut corpus_size = 0u32;
    for counts in &counted {
        if !counts.is_empty() {
            corpus_size += 1;
        }
        for (id, _) in counts {
            document_frequency[*id as usize] += 1;
        }
    }
    let idf: Vec<f64> = document_frequency
        .iter()
        .map(|df| ((1.0 + f64::from(corpus_size)) / (1.0 + f64::from(*df))).ln() + 1.0)
        .collect();

    counted
        .into_iter()
        .zip(documents)
        .map(|(counts, document)| {
            let length = document.len() as f64;
            let mut vector: SparseVector = counts
                .into_iter()
                .map(|(id, count)| (id, f64::from(count) / length * idf[id as usize]))
                .collect();
            let norm = vector
                .iter()
                .map(|(_, weight)| weight * weight)
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                for (_, weight) in &mut vector {
                    *weight /= norm;
                }
            }
            vector
        })
        .collect()
}

/// A proposal's tokens indexed for keyword matching: the positions of each token.
struct TokenIndex {
    tokens: Vec<String>,
    positions: HashMap<String, Vec<usize>>,
}

impl TokenIndex {
    fn new(text: &str) -> Self {
        let tokens = tokenize(text);
        let mut positions: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, token) in tokens.iter().enumerate() {
            positions.entry(token.clone()).or_default().push(position);
        }
        Self { tokens, positions }
    }

    /// Returns whether `sequence` occurs as consecutive tokens.
    fn contains(&self, sequence: &[String]) -> bool {
        let Some((first, rest)) = sequence.split_first() else {
            return false;
        };
        let Some(starts) = self.positions.get(first) else {
            return false;
        };
        starts.iter().any(|start| {
            let following = self.tokens.get(start + 1..start + 1 + rest.len());
            following == Some(rest)
        })
    }
}

/// Keyword score: the weight of the reviewer's keywords found in the text over the weight of
/// all of them; 0 without keywords.
fn keyword_score(keywords: &[WeightedKeyword], text: &TokenIndex) -> f64 {
    let total: f64 = keywords.iter().map(|keyword| keyword.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let matched: f64 = keywords
        .iter()
        .filter(|keyword| text.contains(&keyword.tokens))
        .map(|keyword| keyword.weight)
        .sum();
    (matched / total).min(1.0)
}

/// Keyword score of a reviewer for one text, rounded to 4 decimals.
pub fn keyword_score_for(reviewer: &ReviewerDocument, text: &str) -> f64 {
    round_score(keyword_score(&reviewer.keywords, &TokenIndex::new(text)))
}

/// A text tokenised once, for finding which of many reviewers' keywords it contains.
pub struct KeywordIndex(TokenIndex);

impl KeywordIndex {
    pub fn new(text: &str) -> Self {
        Self(TokenIndex::new(text))
    }

    /// Returns the reviewer's keywords that occur in the text, each as its lower-cased tokens
    /// joined by single spaces ("Machine-Learning" becomes "machine learning").
    pub fn matched_keywords(&self, reviewer: &ReviewerDocument) -> Vec<String> {
        reviewer
            .keywords
            .iter()
            .filter(|keyword| self.0.contains(&keyword.tokens))
            .map(|keyword| keyword.tokens.join(" "))
            .collect()
    }
}

/// Scores every reviewer against every proposal, reviewer by reviewer.
///
/// The corpus of the TF-IDF score is all reviewer texts and proposal texts at once. The work
/// is split over `threads` threads by chunks of reviewers (at least one thread). The result
/// is the same whatever the number of threads: pairs come in reviewer order, then proposal
/// order.
pub fn score_all(
    reviewers: &[ReviewerDocument],
    proposals: &[String],
    combination: Combination,
    threads: usize,
) -> Vec<PairScore> {
    let mut documents: Vec<Vec<String>> = reviewers
        .iter()
        .map(|reviewer| terms(&reviewer.text))
        .collect();
    documents.extend(proposals.iter().map(|text| terms(text)));
    let mut vectors = tfidf_vectors(&documents);
    let proposal_vectors = vectors.split_off(reviewers.len());
    let reviewer_vectors = vectors;
    let proposal_indexes: Vec<TokenIndex> =
        proposals.iter().map(|text| TokenIndex::new(text)).collect();

    let score_reviewer = |reviewer: usize, scores: &mut Vec<PairScore>| {
        for proposal in 0..proposals.len() {
            let keyword = keyword_score(&reviewers[reviewer].keywords, &proposal_indexes[proposal]);
            let text = cosine(&reviewer_vectors[reviewer], &proposal_vectors[proposal]);
            let affinity = round_score(combination.combine(keyword, text));
            let keyword = round_score(keyword);
            let text = round_score(text);
            scores.push(PairScore {
                reviewer,
                proposal,
                affinity,
                keyword: (keyword > 0.0).then_some(keyword),
                text: (text > 0.0).then_some(text),
            });
        }
    };

    let threads = threads.max(1);
    let chunk_size = reviewers.len().div_ceil(threads).max(1);
    let chunks: Vec<Vec<PairScore>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..reviewers.len())
            .step_by(chunk_size)
            .map(|start| {
                let end = (start + chunk_size).min(reviewers.len());
                let score_reviewer = &score_reviewer;
                scope.spawn(move || {
                    let mut scores = Vec::with_capacity((end - start) * proposals.len());
                    for reviewer in start..end {
                        score_reviewer(reviewer, &mut scores);
                    }
                    scores
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("an affinity scoring thread panicked"))
            .collect()
    });
    chunks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert(keyword: &str) -> ExpertiseEntry {
        ExpertiseEntry {
            keyword: keyword.into(),
            proficiency: ProficiencyLevel::Expert,
        }
    }

    fn reviewer(keywords: &[&str], text: &str) -> ReviewerDocument {
        let expertise: Vec<ExpertiseEntry> =
            keywords.iter().map(|keyword| expert(keyword)).collect();
        ReviewerDocument::new(&expertise, &[], text, 2026)
    }

    #[test]
    fn tokenize_keeps_digits_and_unicode() {
        assert_eq!(tokenize("H2O and GPT2!"), ["h2o", "and", "gpt2"]);
        assert_eq!(tokenize("Naïve Größe"), ["naïve", "größe"]);
        assert_eq!(tokenize("state-of-the-art"), ["state", "of", "the", "art"]);
        assert!(tokenize(" ,.; ").is_empty());
    }

    #[test]
    fn terms_drop_stop_words_and_short_tokens() {
        assert_eq!(terms("The AI of h2o is in our models"), ["h2o", "models"]);
    }

    #[test]
    fn keyword_not_matched_inside_word() {
        let ai = reviewer(&["ai"], "");
        assert_eq!(keyword_score_for(&ai, "We maintain tools."), 0.0);
        assert_eq!(keyword_score_for(&ai, "AI-based tools."), 1.0);
    }

    #[test]
    fn keyword_sequence_matches_in_order() {
        let learning = reviewer(&["Machine Learning"], "");
        assert_eq!(
            keyword_score_for(&learning, "machine-learning methods"),
            1.0
        );
        assert_eq!(keyword_score_for(&learning, "learning machines"), 0.0);
        assert_eq!(
            keyword_score_for(&learning, "machine translation, deep learning"),
            0.0
        );
    }

    #[test]
    fn keyword_weights_by_proficiency() {
        let expertise = [
            expert("h2o"),
            ExpertiseEntry {
                keyword: "gpt2".into(),
                proficiency: ProficiencyLevel::Familiar,
            },
            ExpertiseEntry {
                keyword: "ignored".into(),
                proficiency: ProficiencyLevel::Basic,
            },
        ];
        let document = ReviewerDocument::new(&expertise, &[], "", 2026);
        assert_eq!(document.keywords.len(), 2);
        assert_eq!(
            keyword_score_for(&document, "GPT2 text"),
            round_score(0.7 / 1.7)
        );
        assert_eq!(
            keyword_score_for(&document, "h2o and gpt2, not ignored"),
            1.0
        );
    }

    #[test]
    fn keyword_matches_unicode() {
        let document = reviewer(&["Größe"], "");
        assert_eq!(keyword_score_for(&document, "die GRÖSSE"), 0.0);
        assert_eq!(keyword_score_for(&document, "die größe"), 1.0);
    }

    #[test]
    fn reviewer_text_repeats_and_filters() {
        let expertise = [
            expert("optics"),
            ExpertiseEntry {
                keyword: "lasers".into(),
                proficiency: ProficiencyLevel::Familiar,
            },
        ];
        let publications = [
            PublicationEntry {
                title: "Recent".into(),
                abstract_text: "abstract one".into(),
                year: Some(2021),
                excluded_from_matching: false,
            },
            PublicationEntry {
                title: "Old".into(),
                abstract_text: "abstract two".into(),
                year: Some(2020),
                excluded_from_matching: false,
            },
            PublicationEntry {
                title: "Excluded".into(),
                abstract_text: "abstract three".into(),
                year: Some(2026),
                excluded_from_matching: true,
            },
            PublicationEntry {
                title: "Undated".into(),
                abstract_text: String::new(),
                year: None,
                excluded_from_matching: false,
            },
        ];
        let document = ReviewerDocument::new(&expertise, &publications, "Bio.", 2026);
        assert_eq!(
            document.text,
            "optics optics optics lasers lasers Recent abstract one Bio."
        );
    }

    #[test]
    fn text_score_prefers_shared_rare_terms() {
        let reviewers = [
            reviewer(&[], "quantum chromodynamics lattice simulations"),
            reviewer(&[], "protein folding simulations"),
        ];
        let proposals = ["Lattice quantum chromodynamics on GPUs".to_owned()];
        let scores = score_all(&reviewers, &proposals, Combination::default(), 1);
        assert_eq!(scores.len(), 2);
        let physicist = scores[0].text.expect("shared terms give a text score");
        assert!(physicist > 0.5, "physicist scored {physicist}");
        assert_eq!(scores[1].text, None);
        assert_eq!(scores[1].affinity, 0.0);
    }

    #[test]
    fn idf_stays_positive_for_common_terms() {
        let reviewers = [reviewer(&[], "networks"), reviewer(&[], "networks")];
        let proposals = ["networks".to_owned(), "networks".to_owned()];
        let scores = score_all(&reviewers, &proposals, Combination::default(), 1);
        for score in scores {
            assert_eq!(score.text, Some(1.0));
            assert_eq!(score.affinity, 0.6);
        }
    }

    #[test]
    fn empty_documents_score_zero() {
        let reviewers = [reviewer(&[], ""), reviewer(&[], "the of and")];
        let proposals = [String::new(), "graph theory".to_owned()];
        let scores = score_all(&reviewers, &proposals, Combination::default(), 2);
        assert_eq!(scores.len(), 4);
        for score in scores {
            assert_eq!(score.affinity, 0.0);
            assert_eq!(score.keyword, None);
            assert_eq!(score.text, None);
        }
    }

    #[test]
    fn combination_follows_method() {
        let reviewers = [reviewer(&["graphs"], "graphs")];
        let proposals = ["graphs and trees".to_owned()];
        let keyword_only = Combination {
            method: AffinityMethod::Keyword,
            ..Combination::default()
        };
        let scores = score_all(&reviewers, &proposals, keyword_only, 1);
        assert_eq!(scores[0].affinity, 1.0);
        assert_eq!(scores[0].keyword, Some(1.0));

        let combined = score_all(&reviewers, &proposals, Combination::default(), 1);
        let text = combined[0].text.expect("a text score");
        assert_eq!(combined[0].affinity, round_score(0.4 + 0.6 * text));
    }

    #[test]
    fn scoring_is_deterministic_across_threads() {
        let reviewers: Vec<ReviewerDocument> = (0..7)
            .map(|index| {
                reviewer(
                    &["graphs"],
                    &format!("graphs topic{index} shared words number{}", index % 3),
                )
            })
            .collect();
        let proposals: Vec<String> = (0..5)
            .map(|index| format!("graphs topic{index} number{index} more shared words"))
            .collect();
        let single = score_all(&reviewers, &proposals, Combination::default(), 1);
        let parallel = score_all(&reviewers, &proposals, Combination::default(), 3);
        let again = score_all(&reviewers, &proposals, Combination::default(), 3);
        assert_eq!(single.len(), 35);
        assert_eq!(single, parallel);
        assert_eq!(parallel, again);
        assert_eq!((single[8].reviewer, single[8].proposal), (1, 3));
    }

    #[test]
    fn scores_are_rounded_to_four_decimals() {
        assert_eq!(round_score(0.123_456), 0.1235);
        assert_eq!(round_score(0.000_04), 0.0);
    }
}
