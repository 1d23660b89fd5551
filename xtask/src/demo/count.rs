//! An independent count of the own-paper and co-author conflicts of the dataset, computed from
//! the author lists, and its comparison with the conflicts that referee detects.
//!
//! The count works on people (see [`super::data`]) and set operations:
//! - own paper: the reviewer is an author of the submission;
//! - co-author: a paper of the reviewer from `first_year` on has another author who is also
//!   an author of the submission. The submission itself is such a paper when the reviewer
//!   wrote it with others.
//!
//! referee compares names, not people: a team member is the reviewer at a name similarity of
//! 0.90 and a co-author at 0.85 (`referee_domain::detection`). Two people of the dataset with
//! similar names therefore add pairs, whether they are different people ("Huan Zhang" and
//! "Han Zhang") or one person spelled two ways ("Bernhard Schoelkopf" and "Bernhard
//! Schölkopf"). The count lists those pairs separately, found by comparing every two names
//! of the dataset with `name_similarity`, and expects referee to find both kinds.

use std::collections::{BTreeMap, BTreeSet};

use referee_domain::detection::{COAUTHOR_SIMILARITY, NAMED_SIMILARITY, name_similarity};

use super::data::Dataset;

/// A reviewer and a submission: indexes into [`Dataset::people`] and [`Dataset::submissions`].
pub type Pair = (usize, usize);

/// Two people of the dataset whose names referee matches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarNames {
    pub first: usize,
    pub second: usize,
    pub similarity: f64,
}

/// Conflicts that the author lists imply.
#[derive(Debug, Default)]
pub struct ExpectedConflicts {
    pub own_paper: BTreeSet<Pair>,
    pub coauthor: BTreeSet<Pair>,
    /// Named-personnel pairs that come only from similar names, with the names.
    pub similar_named: BTreeMap<Pair, SimilarNames>,
    /// Co-authorship pairs that come only from similar names, with the names.
    pub similar_coauthor: BTreeMap<Pair, SimilarNames>,
}

/// Counts the conflicts of every person with every submission. Papers before `first_year`
/// do not make co-authors.
pub fn count_conflicts(dataset: &Dataset, first_year: i32) -> ExpectedConflicts {
    let mut expected = ExpectedConflicts::default();
    for (index, submission) in dataset.submissions.iter().enumerate() {
        for byline in &submission.authors {
            expected.own_paper.insert((byline.person, index));
        }
    }

    let coauthors = recent_coauthors(dataset, first_year);
    for (reviewer, people) in coauthors.iter().enumerate() {
        for coauthor in people {
            for paper in &dataset.people[*coauthor].papers {
                expected.coauthor.insert((reviewer, *paper));
            }
        }
    }

    let similar = similar_people(dataset, COAUTHOR_SIMILARITY);
    for (index, submission) in dataset.submissions.iter().enumerate() {
        for member in &submission.authors {
            for names in &similar[member.person] {
                let pair = (names.second, index);
                if names.similarity >= NAMED_SIMILARITY && !expected.own_paper.contains(&pair) {
                    expected.similar_named.entry(pair).or_insert(*names);
                }
            }
        }
    }
    for (reviewer, people) in coauthors.iter().enumerate() {
        for coauthor in people {
            for names in &similar[*coauthor] {
                for paper in &dataset.people[names.second].papers {
                    let pair = (reviewer, *paper);
                    if !expected.coauthor.contains(&pair) {
                        expected.similar_coauthor.entry(pair).or_insert(*names);
                    }
                }
            }
        }
    }
    expected
}

/// For each person, the other authors of that person's papers from `first_year` on.
fn recent_coauthors(dataset: &Dataset, first_year: i32) -> Vec<BTreeSet<usize>> {
    dataset
        .people
        .iter()
        .enumerate()
        .map(|(index, person)| {
            person
                .papers
                .iter()
                .filter(|paper| dataset.submissions[**paper].year >= first_year)
                .flat_map(|paper| &dataset.submissions[*paper].authors)
                .map(|byline| byline.person)
                .filter(|other| *other != index)
                .collect()
        })
        .collect()
}

/// For each person, the other people whose names reach `threshold` in `name_similarity`,
/// with `first` set to the person.
fn similar_people(dataset: &Dataset, threshold: f64) -> Vec<Vec<SimilarNames>> {
    let names: Vec<Vec<char>> = dataset
        .people
        .iter()
        .map(|person| person.key.chars().collect())
        .collect();
    let histograms: Vec<[u16; 27]> = names.iter().map(|name| histogram(name)).collect();

    let mut similar = vec![Vec::new(); names.len()];
    for first in 0..names.len() {
        for second in first + 1..names.len() {
            let longest = names[first].len().max(names[second].len());
            // The similarity is 1 - distance / longest, so it reaches the threshold only when
            // the distance is at most this many edits.
            let allowed = ((1.0 - threshold) * longest as f64 + 1e-9).floor() as usize;
            if names[first].len().abs_diff(names[second].len()) > allowed
                || distance_lower_bound(&histograms[first], &histograms[second]) > allowed
            {
                continue;
            }
            let similarity =
                name_similarity(&dataset.people[first].key, &dataset.people[second].key);
            if similarity >= threshold {
                similar[first].push(SimilarNames {
                    first,
                    second,
                    similarity,
                });
                similar[second].push(SimilarNames {
                    first: second,
                    second: first,
                    similarity,
                });
            }
        }
    }
    similar
}

/// Counts the letters a to z of a name, and every other character in the last slot.
fn histogram(name: &[char]) -> [u16; 27] {
    let mut counts = [0u16; 27];
    for character in name {
        let slot = match character {
            'a'..='z' => *character as usize - 'a' as usize,
            _ => 26,
        };
        counts[slot] = counts[slot].saturating_add(1);
    }
    counts
}

/// Returns a lower bound of the edit distance, because one edit changes the character
/// counts by at most two.
fn distance_lower_bound(first: &[u16; 27], second: &[u16; 27]) -> usize {
    let difference: usize = first
        .iter()
        .zip(second)
        .map(|(left, right)| usize::from(left.abs_diff(*right)))
        .sum();
    difference.div_ceil(2)
}

/// Conflicts that referee reported, by kind.
#[derive(Debug, Default)]
pub struct DetectedConflicts {
    /// Pairs with a `ROLE_NAMED` conflict.
    pub named: BTreeSet<Pair>,
    /// Pairs with a `COAUTH_RECENT` or `COAUTH_OLD` conflict.
    pub coauthorship: BTreeSet<Pair>,
}

/// One kind of conflict in the comparison.
#[derive(Debug)]
pub struct KindComparison {
    pub kind: &'static str,
    /// Pairs from the author lists alone.
    pub from_authors: usize,
    /// Pairs added by similar names of different people.
    pub from_similar_names: usize,
    pub detected: usize,
    /// Expected pairs that referee did not report.
    pub missing: Vec<Pair>,
    /// Reported pairs that the count does not explain.
    pub unexpected: Vec<Pair>,
}

impl KindComparison {
    fn new(
        kind: &'static str,
        from_authors: &BTreeSet<Pair>,
        from_similar_names: &BTreeMap<Pair, SimilarNames>,
        detected: &BTreeSet<Pair>,
    ) -> Self {
        let mut expected = from_authors.clone();
        expected.extend(from_similar_names.keys());
        KindComparison {
            kind,
            from_authors: from_authors.len(),
            from_similar_names: from_similar_names.len(),
            detected: detected.len(),
            missing: expected.difference(detected).copied().collect(),
            unexpected: detected.difference(&expected).copied().collect(),
        }
    }

    pub fn matches(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Compares the own-paper (`ROLE_NAMED`) and co-author conflicts with what referee found.
pub fn compare(expected: &ExpectedConflicts, detected: &DetectedConflicts) -> [KindComparison; 2] {
    [
        KindComparison::new(
            "own paper (ROLE_NAMED)",
            &expected.own_paper,
            &expected.similar_named,
            &detected.named,
        ),
        KindComparison::new(
            "co-author (COAUTH_*)",
            &expected.coauthor,
            &expected.similar_coauthor,
            &detected.coauthorship,
        ),
    ]
}

/// Prints the comparison table, the pairs that differ (at most `limit` of each list) and the
/// similar names behind the added pairs.
pub fn print_comparison(
    dataset: &Dataset,
    expected: &ExpectedConflicts,
    comparison: &[KindComparison; 2],
    limit: usize,
) {
    println!(
        "  {:<24} {:>12} {:>14} {:>9} {:>9} {:>8} {:>11}",
        "conflicts",
        "from authors",
        "similar names",
        "expected",
        "detected",
        "missing",
        "unexpected"
    );
    for row in comparison {
        println!(
            "  {:<24} {:>12} {:>14} {:>9} {:>9} {:>8} {:>11}",
            row.kind,
            row.from_authors,
            row.from_similar_names,
            row.from_authors + row.from_similar_names,
            row.detected,
            row.missing.len(),
            row.unexpected.len()
        );
    }
    let describe = |(person, submission): &Pair| {
        format!(
            "{} / \"{}\"",
            dataset.people[*person].name, dataset.submissions[*submission].title
        )
    };
    for row in comparison {
        for (label, pairs) in [("missing", &row.missing), ("unexpected", &row.unexpected)] {
            for pair in pairs.iter().take(limit) {
                println!("    {label} {}: {}", row.kind, describe(pair));
            }
            if pairs.len() > limit {
                println!("    … and {} more {label} pairs", pairs.len() - limit);
            }
        }
    }

    let mut by_names: BTreeMap<(usize, usize), (f64, usize, usize)> = BTreeMap::new();
    for names in expected.similar_named.values() {
        let key = (names.first.min(names.second), names.first.max(names.second));
        by_names.entry(key).or_insert((names.similarity, 0, 0)).1 += 1;
    }
    for names in expected.similar_coauthor.values() {
        let key = (names.first.min(names.second), names.first.max(names.second));
        by_names.entry(key).or_insert((names.similarity, 0, 0)).2 += 1;
    }
    if by_names.is_empty() {
        return;
    }
    println!(
        "  similar names that the count keeps apart and referee matches ({} name pairs):",
        by_names.len()
    );
    for ((first, second), (similarity, named, coauthor)) in by_names.iter().take(limit) {
        println!(
            "    {} ~ {} (similarity {similarity:.3}): {named} own-paper and {coauthor} co-author pairs",
            dataset.people[*first].name, dataset.people[*second].name
        );
    }
    if by_names.len() > limit {
        println!("    … and {} more name pairs", by_names.len() - limit);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::{Datelike, NaiveDate, Utc};
    use referee_domain::detection::{
        AffiliationFacts, CoauthorFacts, DetectionSettings, PreparedReviewer, PreparedTeam,
        PublicationFacts, ReviewerFacts, TeamMemberFacts, detect_prepared,
    };
    use referee_domain::enums::CoiType;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::demo::data::team_role;

    fn small() -> Dataset {
        Dataset::from_json(
            &json!([
                {"title": "P0", "authors": ["Ann One", "Bo Two"], "emails": [], "decision": "Accept (Poster)"},
                {"title": "P1", "authors": ["Bo Two", "Cy Three"], "emails": []},
                {"title": "P2", "authors": ["Di Four"], "emails": []},
                {"title": "P3", "authors": ["Zhangyang Wang"], "emails": []},
                {"title": "P4", "authors": ["Zhengyang Wang", "Di Four"], "emails": []},
            ]),
            None,
            None,
        )
        .unwrap()
    }

    fn person(dataset: &Dataset, name: &str) -> usize {
        dataset
            .people
            .iter()
            .position(|person| person.name == name)
            .unwrap()
    }

    #[test]
    fn own_paper_and_coauthor_pairs() {
        let data = small();
        let expected = count_conflicts(&data, 2017);
        let ann = person(&data, "Ann One");
        let bo = person(&data, "Bo Two");
        let cy = person(&data, "Cy Three");

        assert_eq!(expected.own_paper.len(), 8);
        assert!(expected.own_paper.contains(&(ann, 0)));
        // Ann co-authored P0 with Bo, who is on P0 and P1.
        assert!(expected.coauthor.contains(&(ann, 0)));
        assert!(expected.coauthor.contains(&(ann, 1)));
        assert!(!expected.coauthor.contains(&(ann, 2)));
        // Bo co-authored with Ann and Cy.
        assert!(expected.coauthor.contains(&(bo, 0)));
        assert!(expected.coauthor.contains(&(bo, 1)));
        assert!(expected.coauthor.contains(&(cy, 0)));
        // A single-author paper makes no co-authors.
        let di = person(&data, "Di Four");
        assert!(expected.coauthor.contains(&(di, 4)));
        assert!(!expected.coauthor.contains(&(di, 2)));
    }

    #[test]
    fn window_drops_old_papers() {
        let data = small();
        let expected = count_conflicts(&data, 2018);
        let ann = person(&data, "Ann One");
        let cy = person(&data, "Cy Three");
        assert!(expected.coauthor.contains(&(ann, 1)));
        // P1 is from 2017, so Cy has no co-authors from 2018 on.
        assert!(!expected.coauthor.contains(&(cy, 0)));
        assert_eq!(expected.own_paper.len(), 8);
    }

    #[test]
    fn similar_names_add_pairs() {
        let data = small();
        let expected = count_conflicts(&data, 2017);
        let zhangyang = person(&data, "Zhangyang Wang");
        let zhengyang = person(&data, "Zhengyang Wang");
        let di = person(&data, "Di Four");

        let named = expected.similar_named[&(zhangyang, 4)];
        assert_eq!(named.first, zhengyang);
        assert!(named.similarity >= NAMED_SIMILARITY);
        assert!(expected.similar_named.contains_key(&(zhengyang, 3)));
        // Di's co-author Zhengyang reads as Zhangyang, the author of P3.
        assert!(expected.similar_coauthor.contains_key(&(di, 3)));
        assert!(!expected.coauthor.contains(&(di, 3)));
    }

    #[test]
    fn comparison_lists_differences() {
        let data = small();
        let expected = count_conflicts(&data, 2017);
        let mut detected = DetectedConflicts {
            named: expected.own_paper.clone(),
            coauthorship: expected.coauthor.clone(),
        };
        detected.named.extend(expected.similar_named.keys());
        detected
            .coauthorship
            .extend(expected.similar_coauthor.keys());
        assert!(
            compare(&expected, &detected)
                .iter()
                .all(KindComparison::matches)
        );

        let removed = *detected.named.iter().next().unwrap();
        detected.named.remove(&removed);
        detected.coauthorship.insert((0, 2));
        let [named, coauthor] = compare(&expected, &detected);
        assert_eq!(named.missing, vec![removed]);
        assert!(named.unexpected.is_empty());
        assert_eq!(coauthor.unexpected, vec![(0, 2)]);
    }

    /// Builds the reviewer facts as the store reads an imported reviewer back: the user's
    /// name and e-mail, the affiliation and the publications with their co-author names.
    fn reviewer_facts(dataset: &Dataset, index: usize) -> ReviewerFacts {
        let person = &dataset.people[index];
        ReviewerFacts {
            user_uuid: Some(Uuid::from_u128(index as u128 + 1)),
            full_name: person.name.clone(),
            email: person.email.clone(),
            orcid: None,
            alternative_names: Vec::new(),
            affiliations: person
                .domain
                .iter()
                .map(|domain| AffiliationFacts {
                    organization_name: domain.clone(),
                    organization_identifier: domain.clone(),
                    affiliation_type: "employment".to_owned(),
                    ..AffiliationFacts::default()
                })
                .collect(),
            publications: person
                .papers
                .iter()
                .map(|paper| PublicationFacts {
                    title: dataset.submissions[*paper].title.clone(),
                    doi: None,
                    year: Some(dataset.submissions[*paper].year),
                    coauthors: dataset
                        .coauthor_names(index, *paper)
                        .into_iter()
                        .map(|name| CoauthorFacts { name, orcid: None })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Builds the team facts as the store reads imported team members back. Imported members
    /// have no user account.
    fn team_facts(dataset: &Dataset, submission: usize) -> Vec<TeamMemberFacts> {
        dataset.submissions[submission]
            .authors
            .iter()
            .enumerate()
            .map(|(position, byline)| {
                let person = &dataset.people[byline.person];
                TeamMemberFacts {
                    user_uuid: None,
                    full_name: byline.name.clone(),
                    email: person.email.clone(),
                    orcid: None,
                    organization: person.domain.clone().unwrap_or_default(),
                    role: team_role(position).to_owned(),
                }
            })
            .collect()
    }

    /// Runs referee's detection over every pair on all cores, with the facts prepared once
    /// per reviewer and per team as the store's detection job does.
    fn detect_all(dataset: &Dataset, today: NaiveDate, lookback_years: i32) -> DetectedConflicts {
        let settings = DetectionSettings {
            coauthorship_lookback_years: lookback_years,
            ..DetectionSettings::default()
        };
        let reviewer_facts: Vec<ReviewerFacts> = (0..dataset.people.len())
            .map(|index| reviewer_facts(dataset, index))
            .collect();
        let team_facts: Vec<Vec<TeamMemberFacts>> = (0..dataset.submissions.len())
            .map(|index| team_facts(dataset, index))
            .collect();
        let reviewers: Vec<PreparedReviewer<'_>> =
            reviewer_facts.iter().map(PreparedReviewer::new).collect();
        let teams: Vec<PreparedTeam<'_>> = team_facts
            .iter()
            .map(|team| PreparedTeam::new(team))
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = reviewers.len().div_ceil(threads).max(1);

        let results: Vec<DetectedConflicts> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..reviewers.len())
                .step_by(chunk)
                .map(|start| {
                    let (reviewers, teams, settings) = (&reviewers, &teams, &settings);
                    scope.spawn(move || {
                        let mut found = DetectedConflicts::default();
                        let end = (start + chunk).min(reviewers.len());
                        for (reviewer, facts) in reviewers.iter().enumerate().take(end).skip(start)
                        {
                            for (submission, team) in teams.iter().enumerate() {
                                for finding in detect_prepared(facts, team, settings, today) {
                                    match finding.coi_type {
                                        CoiType::RoleNamed => {
                                            found.named.insert((reviewer, submission));
                                        }
                                        CoiType::CoauthRecent | CoiType::CoauthOld => {
                                            found.coauthorship.insert((reviewer, submission));
                                        }
                                        _ => {}
                                    }
                                }
                            }
                        }
                        found
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a detection thread panicked"))
                .collect()
        });
        let mut detected = DetectedConflicts::default();
        for part in results {
            detected.named.extend(part.named);
            detected.coauthorship.extend(part.coauthorship);
        }
        detected
    }

    #[test]
    fn detection_matches_small_count() {
        let data = small();
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let expected = count_conflicts(&data, 2017);
        let detected = detect_all(&data, today, 9);
        for row in compare(&expected, &detected) {
            assert!(
                row.missing.is_empty(),
                "{}: missing {:?}",
                row.kind,
                row.missing
            );
            assert!(
                row.unexpected.is_empty(),
                "{}: unexpected {:?}",
                row.kind,
                row.unexpected
            );
        }
    }

    /// Returns the submissions file: `REFEREE_DEMO_DATA`, else the default path of
    /// `cargo xtask demo`.
    fn data_file() -> PathBuf {
        std::env::var_os("REFEREE_DEMO_DATA").map_or_else(
            || {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join(crate::demo::DEFAULT_DATA_FILE)
            },
            PathBuf::from,
        )
    }

    /// Compares detection with the count on the first `sample` submissions of the file, or on
    /// all of them. Without the file it prints a note and passes.
    fn check_iclr(sample: Option<usize>) {
        let path = data_file();
        if !path.exists() {
            eprintln!(
                "skipped: the submissions file {} does not exist (set REFEREE_DEMO_DATA)",
                path.display()
            );
            return;
        }
        let data = Dataset::load(&path, sample, None).unwrap();
        let today = Utc::now().date_naive();
        let lookback_years = crate::demo::coauthorship_lookback_years(today.year());
        let expected = count_conflicts(&data, today.year() - lookback_years);
        let started = std::time::Instant::now();
        let detected = detect_all(&data, today, lookback_years);
        eprintln!(
            "detection over {} reviewers and {} submissions took {:.1} s",
            data.people.len(),
            data.submissions.len(),
            started.elapsed().as_secs_f64()
        );

        let comparison = compare(&expected, &detected);
        print_comparison(&data, &expected, &comparison, 20);
        for row in &comparison {
            assert!(
                row.missing.is_empty(),
                "{}: detection missed {} pairs",
                row.kind,
                row.missing.len()
            );
            assert!(
                row.unexpected.is_empty(),
                "{}: detection reported {} pairs that the count does not explain",
                row.kind,
                row.unexpected.len()
            );
        }
    }

    #[test]
    fn detection_matches_iclr_sample() {
        check_iclr(Some(150));
    }

    #[test]
    #[ignore = "detection over all 2.9 million pairs takes minutes in a debug build"]
    fn detection_matches_iclr_count() {
        check_iclr(None);
    }
}
