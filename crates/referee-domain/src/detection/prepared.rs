//! Normalised forms of the detection facts, computed once per reviewer and once per proposal
//! team so that comparing every pair of a call does not normalise the same names and domains
//! again for each pair.

use super::{
    AffiliationFacts, CoauthorFacts, PublicationFacts, ReviewerFacts, TeamMemberFacts,
    identifier_domain, institutional_domain, normalize_name, normalize_orcid,
};

/// A name after [`normalize_name`], as characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct NameKey(Vec<char>);

impl NameKey {
    pub(super) fn new(name: &str) -> Self {
        Self(normalize_name(name).chars().collect())
    }

    /// Computes `1 - levenshtein / max(length)`; 0 when either name is empty.
    pub(super) fn similarity(&self, other: &Self) -> f64 {
        if self.0.is_empty() || other.0.is_empty() {
            return 0.0;
        }
        if self.0 == other.0 {
            return 1.0;
        }
        let longest = self.0.len().max(other.0.len());
        let distance = bounded_levenshtein(&self.0, &other.0, longest).unwrap_or(longest);
        1.0 - distance as f64 / longest as f64
    }

    /// Returns the similarity when it is at least `threshold`, and `None` otherwise. Equal to
    /// filtering [`Self::similarity`], but it stops as soon as the edit distance exceeds the
    /// most that `threshold` allows.
    pub(super) fn similarity_at_least(&self, other: &Self, threshold: f64) -> Option<f64> {
        if self.0.is_empty() || other.0.is_empty() {
            return None;
        }
        if self.0 == other.0 {
            return (1.0 >= threshold).then_some(1.0);
        }
        let longest = self.0.len().max(other.0.len());
        // `1 - d / longest >= threshold` holds only for `d <= (1 - threshold) * longest`; the
        // small tolerance keeps a distance that rounding would otherwise exclude.
        let allowed = ((1.0 - threshold) * longest as f64 + 1e-9).floor().max(0.0) as usize;
        let distance = bounded_levenshtein(&self.0, &other.0, allowed)?;
        let similarity = 1.0 - distance as f64 / longest as f64;
        (similarity >= threshold).then_some(similarity)
    }
}

/// Edit distance (insertions, deletions, substitutions) between two character sequences, or
/// `None` when it exceeds `limit`.
pub(super) fn bounded_levenshtein(left: &[char], right: &[char], limit: usize) -> Option<usize> {
    if left.len().abs_diff(right.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    let mut current = vec![0; right.len() + 1];
    for (i, left_char) in left.iter().enumerate() {
        current[0] = i + 1;
        let mut row_minimum = current[0];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            row_minimum = row_minimum.min(current[j + 1]);
        }
        // Every later cell is at least the minimum of this row, so the distance already
        // exceeds the limit.
        if row_minimum > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[right.len()];
    (distance <= limit).then_some(distance)
}

/// A reviewer's facts with normalised names, identifiers and domains.
#[derive(Debug, Clone)]
pub struct PreparedReviewer<'a> {
    pub(super) facts: &'a ReviewerFacts,
    pub(super) name: NameKey,
    pub(super) alternative_names: Vec<(&'a str, NameKey)>,
    pub(super) orcid: Option<String>,
    pub(super) email_domain: Option<String>,
    pub(super) affiliations: Vec<PreparedAffiliation<'a>>,
    pub(super) publications: Vec<PreparedPublication<'a>>,
}

#[derive(Debug, Clone)]
pub(super) struct PreparedAffiliation<'a> {
    pub(super) facts: &'a AffiliationFacts,
    /// The organisation name after [`normalize_name`].
    pub(super) name: String,
    pub(super) domain: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct PreparedPublication<'a> {
    pub(super) facts: &'a PublicationFacts,
    pub(super) coauthors: Vec<PreparedCoauthor<'a>>,
}

#[derive(Debug, Clone)]
pub(super) struct PreparedCoauthor<'a> {
    pub(super) facts: &'a CoauthorFacts,
    pub(super) name: NameKey,
    pub(super) orcid: Option<String>,
}

impl<'a> PreparedReviewer<'a> {
    pub fn new(facts: &'a ReviewerFacts) -> Self {
        Self {
            facts,
            name: NameKey::new(&facts.full_name),
            alternative_names: facts
                .alternative_names
                .iter()
                .map(|name| (name.as_str(), NameKey::new(name)))
                .collect(),
            orcid: facts.orcid.as_deref().and_then(normalize_orcid),
            email_domain: institutional_domain(&facts.email),
            affiliations: facts
                .affiliations
                .iter()
                .map(|affiliation| PreparedAffiliation {
                    facts: affiliation,
                    name: normalize_name(&affiliation.organization_name),
                    domain: identifier_domain(&affiliation.organization_identifier),
                })
                .collect(),
            publications: facts
                .publications
                .iter()
                .map(|publication| PreparedPublication {
                    facts: publication,
                    coauthors: publication
                        .coauthors
                        .iter()
                        .map(|coauthor| PreparedCoauthor {
                            facts: coauthor,
                            name: NameKey::new(&coauthor.name),
                            orcid: coauthor.orcid.as_deref().and_then(normalize_orcid),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A proposal team with normalised names, identifiers and domains.
#[derive(Debug, Clone)]
pub struct PreparedTeam<'a> {
    pub(super) members: Vec<PreparedMember<'a>>,
}

#[derive(Debug, Clone)]
pub(super) struct PreparedMember<'a> {
    pub(super) facts: &'a TeamMemberFacts,
    pub(super) name: NameKey,
    pub(super) orcid: Option<String>,
    pub(super) email_domain: Option<String>,
    /// The organisation after [`normalize_name`].
    pub(super) organization: String,
}

impl<'a> PreparedTeam<'a> {
    pub fn new(team: &'a [TeamMemberFacts]) -> Self {
        Self {
            members: team
                .iter()
                .map(|member| PreparedMember {
                    facts: member,
                    name: NameKey::new(&member.full_name),
                    orcid: member.orcid.as_deref().and_then(normalize_orcid),
                    email_domain: institutional_domain(&member.email),
                    organization: normalize_name(&member.organization),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn bounded_levenshtein_matches_full_distance() {
        let words = [
            "",
            "a",
            "ana lee",
            "dana leeds",
            "anna leeson",
            "jon smith",
            "john smith",
        ];
        for left in words {
            for right in words {
                let full = bounded_levenshtein(&chars(left), &chars(right), usize::MAX - 1);
                for limit in 0..12 {
                    let bounded = bounded_levenshtein(&chars(left), &chars(right), limit);
                    let expected = full.filter(|distance| *distance <= limit);
                    assert_eq!(bounded, expected, "{left:?} / {right:?} limit {limit}");
                }
            }
        }
    }

    #[test]
    fn threshold_agrees_with_similarity() {
        let names = [
            "Ana Lee",
            "Dana Leeds",
            "Jon Smith",
            "John Smith",
            "J. Smith",
            "",
        ];
        for left in names {
            for right in names {
                let (left_key, right_key) = (NameKey::new(left), NameKey::new(right));
                let similarity = left_key.similarity(&right_key);
                for threshold in [0.5, 0.7, 0.85, 0.9, 1.0] {
                    let expected =
                        (similarity >= threshold && similarity > 0.0).then_some(similarity);
                    assert_eq!(
                        left_key.similarity_at_least(&right_key, threshold),
                        expected,
                        "{left:?} / {right:?} at {threshold}"
                    );
                }
            }
        }
    }
}
