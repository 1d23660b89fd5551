//! The import documents (format `referee-import/1`, see docs/import-format.md) that load the
//! dataset into an existing call: the submissions as proposals, and every author as a
//! reviewer with an accepted pool entry.

use serde_json::{Map, Value, json};

use super::data::{Dataset, Person, team_role};

const FORMAT: &str = "referee-import/1";

/// Largest document sent in one request, in bytes of JSON. The server's default body limit
/// is 2 MiB (`--max-body-bytes`), so the documents also fit a server started with defaults.
const MAX_DOCUMENT_BYTES: usize = 1_500_000;

/// Builds the proposals with their teams, in submission order. `round` is the slug of the
/// call's round.
pub fn proposal_documents(dataset: &Dataset, round: &str) -> Vec<Value> {
    let mut packer = Packer::default();
    for (index, submission) in dataset.submissions.iter().enumerate() {
        let team: Vec<Value> = submission
            .authors
            .iter()
            .enumerate()
            .map(|(position, byline)| {
                let person = &dataset.people[byline.person];
                json!({
                    "full_name": byline.name,
                    "email": person.email,
                    "organization": person.domain.clone().unwrap_or_default(),
                    "role": team_role(position),
                })
            })
            .collect();
        let proposal = json!({
            "key": format!("paper-{index}"),
            "round": round,
            "name": submission.title,
            "project_summary": submission.abstract_text,
            "state": "submitted",
            "team_members": team,
        });
        packer.add(vec![("proposals", proposal)]);
    }
    packer.finish()
}

/// Builds every person as a reviewer with a published profile, and an accepted pool entry
/// for each with the workload limit `max_assignments`.
pub fn reviewer_documents(dataset: &Dataset, max_assignments: u32) -> Vec<Value> {
    let mut packer = Packer::default();
    for (index, person) in dataset.people.iter().enumerate() {
        let reviewer = reviewer(dataset, index, person);
        let pool_entry = json!({
            "reviewer": person.username,
            "invitation_status": "accepted",
            "max_assignments": max_assignments,
        });
        packer.add(vec![("reviewers", reviewer), ("pool", pool_entry)]);
    }
    packer.finish()
}

fn reviewer(dataset: &Dataset, index: usize, person: &Person) -> Value {
    let publications: Vec<Value> = person
        .papers
        .iter()
        .map(|paper| {
            let submission = &dataset.submissions[*paper];
            let (venue, venue_type) = if submission.accepted {
                ("ICLR 2018", "conference")
            } else {
                ("ICLR 2018 submission on OpenReview", "preprint")
            };
            json!({
                "title": submission.title,
                "publication_year": submission.year,
                "venue": venue,
                "venue_type": venue_type,
                "abstract": submission.abstract_text,
                "coauthors": dataset.coauthor_names(index, *paper),
            })
        })
        .collect();
    let affiliations: Vec<Value> = person
        .domain
        .iter()
        .map(|domain| {
            json!({
                "organization_name": domain,
                "organization_identifier": domain,
                "is_primary": true,
                "affiliation_type": "employment",
            })
        })
        .collect();
    json!({
        "username": person.username,
        "email": person.email,
        "full_name": person.name,
        "biography": biography(dataset, person),
        "available_for_reviews": true,
        "is_published": true,
        "affiliations": affiliations,
        "publications": publications,
    })
}

/// Joins the titles and abstracts of the person's papers.
///
/// NOTE: referee scores affinity only from publications of the last five years
/// (`referee_domain::affinity::PUBLICATION_LOOKBACK_YEARS`), which leaves out papers of 2017
/// and 2018 from 2024 on. The biography always counts, so repeating the papers there keeps
/// the scores based on the same text.
fn biography(dataset: &Dataset, person: &Person) -> String {
    person
        .papers
        .iter()
        .map(|paper| {
            let submission = &dataset.submissions[*paper];
            format!("{}. {}", submission.title, submission.abstract_text)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Packs list entries into documents of at most [`MAX_DOCUMENT_BYTES`]. Entries added
/// together stay in one document, and such a group larger than the limit gets a document
/// alone.
#[derive(Default)]
struct Packer {
    documents: Vec<Value>,
    current: Map<String, Value>,
    bytes: usize,
}

impl Packer {
    fn add(&mut self, entries: Vec<(&str, Value)>) {
        let size: usize = entries
            .iter()
            .map(|(_, entry)| entry.to_string().len() + 1)
            .sum();
        if !self.current.is_empty() && self.bytes + size > MAX_DOCUMENT_BYTES {
            self.flush();
        }
        for (list, entry) in entries {
            let list = self
                .current
                .entry(list)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(entry);
            }
        }
        self.bytes += size;
    }

    fn flush(&mut self) {
        let mut document = std::mem::take(&mut self.current);
        document.insert("format".to_owned(), Value::from(FORMAT));
        self.documents.push(Value::Object(document));
        self.bytes = 0;
    }

    fn finish(mut self) -> Vec<Value> {
        if !self.current.is_empty() {
            self.flush();
        }
        self.documents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dataset {
        Dataset::from_json(
            &json!([
                {"title": "Deep nets", "abstract": "About nets.", "authors": ["Ann One", "Bo Two"],
                 "emails": ["uni.edu"], "decision": "Accept (Poster)"},
                {"title": "Shallow nets", "abstract": "Fewer layers.", "authors": ["Bo Two", "Cy Three"],
                 "emails": ["uni.edu", "lab.org"]},
            ]),
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn proposals_carry_teams() {
        let documents = proposal_documents(&sample(), "ICLR-R1");
        assert_eq!(documents.len(), 1);
        let proposals = documents[0]["proposals"].as_array().unwrap();
        assert_eq!(proposals.len(), 2);
        assert_eq!(documents[0]["format"], FORMAT);
        let team = proposals[0]["team_members"].as_array().unwrap();
        assert_eq!(team[0]["full_name"], "Ann One");
        assert_eq!(team[0]["role"], "principal_investigator");
        assert_eq!(team[0]["organization"], "uni.edu");
        assert_eq!(team[1]["role"], "co_investigator");
        assert_eq!(proposals[1]["team_members"][1]["organization"], "");
    }

    #[test]
    fn reviewers_have_papers_and_pool_entries() {
        let documents = reviewer_documents(&sample(), 6);
        let reviewers = documents[0]["reviewers"].as_array().unwrap();
        let pool = documents[0]["pool"].as_array().unwrap();
        assert_eq!(reviewers.len(), 3);
        assert_eq!(pool.len(), 3);
        assert_eq!(pool[1]["max_assignments"], 6);

        let bo = &reviewers[1];
        assert_eq!(bo["full_name"], "Bo Two");
        let publications = bo["publications"].as_array().unwrap();
        assert_eq!(publications.len(), 2);
        assert_eq!(publications[0]["publication_year"], 2018);
        assert_eq!(publications[0]["coauthors"], json!(["Ann One"]));
        assert_eq!(publications[1]["publication_year"], 2017);
        assert_eq!(publications[1]["venue_type"], "preprint");
        assert_eq!(bo["affiliations"][0]["organization_name"], "uni.edu");
        assert_eq!(reviewers[2]["affiliations"], json!([]));
    }

    #[test]
    fn packer_splits_large_lists() {
        let mut packer = Packer::default();
        let entry = Value::from("x".repeat(MAX_DOCUMENT_BYTES / 3));
        for _ in 0..4 {
            packer.add(vec![("proposals", entry.clone())]);
        }
        let documents = packer.finish();
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0]["proposals"].as_array().unwrap().len(), 2);
        assert_eq!(documents[1]["proposals"].as_array().unwrap().len(), 2);
    }
}
