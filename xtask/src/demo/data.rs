//! The ICLR 2018 submissions file and the people in it.
//!
//! The file is a JSON array with one object per submission: `title`, `abstract`, `authors` (an
//! array of names), `emails` (the distinct e-mail domains of the authors, in no particular
//! order) and an optional `decision`. Other keys are ignored.
//!
//! Rules that turn the file into people and papers:
//! - Names are trimmed, lose trailing `*` marks (equal contribution) and have their whitespace
//!   collapsed. Two names are one person when [`normalize_name`] gives the same text, so
//!   "Yann LeCun" and "Yann Lecun", or "Rémi Flamary" and "Remi Flamary", are one person. A
//!   person is shown under the spelling used most often, the first one on a tie.
//! - A paper's year is 2018 when the conference accepted it (oral, poster or workshop track)
//!   and 2017, the year of submission, otherwise.
//! - A person gets an e-mail domain only when exactly one domain appears in the domain list of
//!   every paper of that person and it is not a public mail provider. The lists name no author
//!   and are not in author order, so a list with as many domains as authors does not say who
//!   has which domain either.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use referee_domain::detection::{PUBLIC_MAIL_DOMAINS, normalize_name};
use serde_json::Value;

/// E-mail domain of the synthesised addresses. It is on referee's list of public mail
/// domains, so a shared address domain never reads as a shared institution.
pub const EMAIL_DOMAIN: &str = "example.org";

/// The submissions that a run uses and their authors.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub submissions: Vec<Submission>,
    pub people: Vec<Person>,
}

#[derive(Debug, Clone)]
pub struct Submission {
    pub title: String,
    pub abstract_text: String,
    pub year: i32,
    /// Whether the conference accepted the paper, including its workshop track.
    pub accepted: bool,
    /// Authors in the order of the file, each person once.
    pub authors: Vec<Byline>,
    /// Lower-cased e-mail domains of the authors, as listed in the file.
    pub domains: Vec<String>,
}

/// An author of one submission.
#[derive(Debug, Clone)]
pub struct Byline {
    /// Index into [`Dataset::people`].
    pub person: usize,
    /// The cleaned spelling on this submission.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Person {
    /// The normalised name that identifies the person.
    pub key: String,
    pub name: String,
    pub username: String,
    pub email: String,
    /// The attributed e-mail domain, used as the organisation.
    pub domain: Option<String>,
    /// Indexes into [`Dataset::submissions`], in file order.
    pub papers: Vec<usize>,
}

impl Dataset {
    /// Reads the file and keeps the first `sample` submissions (all without a sample).
    /// `tag` is appended to usernames and e-mail addresses, so that a run against a server
    /// that already has the users of an earlier run creates new ones.
    pub fn load(path: &Path, sample: Option<usize>, tag: Option<&str>) -> Result<Dataset> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the submissions file {}", path.display()))?;
        let document: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        Dataset::from_json(&document, sample, tag)
            .with_context(|| format!("failed to read the submissions in {}", path.display()))
    }

    pub fn from_json(
        document: &Value,
        sample: Option<usize>,
        tag: Option<&str>,
    ) -> Result<Dataset> {
        let Some(entries) = document.as_array() else {
            bail!("the top level is not an array of submissions");
        };
        let count = sample.map_or(entries.len(), |sample| sample.min(entries.len()));

        let mut builder = PeopleBuilder::default();
        let mut submissions = Vec::with_capacity(count);
        for (index, entry) in entries.iter().take(count).enumerate() {
            let submission = read_submission(entry, index, &mut builder)
                .with_context(|| format!("submission {index} (0-based)"))?;
            submissions.push(submission);
        }

        let mut people = builder.finish(tag);
        for (index, submission) in submissions.iter().enumerate() {
            for byline in &submission.authors {
                people[byline.person].papers.push(index);
            }
        }
        for person in &mut people {
            person.domain = attributed_domain(&person.papers, &submissions);
        }
        Ok(Dataset {
            submissions,
            people,
        })
    }

    /// Names of the other authors of a submission, as spelled on it: the co-authors that the
    /// person's publication lists.
    pub fn coauthor_names(&self, person: usize, submission: usize) -> Vec<String> {
        self.submissions[submission]
            .authors
            .iter()
            .filter(|byline| byline.person != person)
            .map(|byline| byline.name.clone())
            .collect()
    }
}

/// Team role of the author at `position` in the author list: the first author leads.
pub fn team_role(position: usize) -> &'static str {
    if position == 0 {
        "principal_investigator"
    } else {
        "co_investigator"
    }
}

fn read_submission(entry: &Value, index: usize, builder: &mut PeopleBuilder) -> Result<Submission> {
    let title = entry["title"]
        .as_str()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .with_context(|| format!("submission {index} has no title"))?
        .to_owned();
    let abstract_text = entry["abstract"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let decision = entry["decision"].as_str().unwrap_or_default();
    let accepted = decision.starts_with("Accept") || decision == "Invite to Workshop Track";

    let mut authors: Vec<Byline> = Vec::new();
    for name in strings(&entry["authors"], "authors")? {
        let name = clean_name(name);
        if name.is_empty() {
            continue;
        }
        let person = builder.person_for(&name);
        if authors.iter().all(|byline| byline.person != person) {
            authors.push(Byline { person, name });
        }
    }
    let domains = strings(&entry["emails"], "emails")?
        .into_iter()
        .map(|domain| domain.trim().to_lowercase())
        .filter(|domain| !domain.is_empty())
        .collect();

    Ok(Submission {
        title,
        abstract_text,
        year: if accepted { 2018 } else { 2017 },
        accepted,
        authors,
        domains,
    })
}

/// Returns the strings of an optional array. A missing key or `null` is an empty list.
fn strings<'a>(value: &'a Value, key: &str) -> Result<Vec<&'a str>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .with_context(|| format!("`{key}` holds a non-string"))
            })
            .collect(),
        _ => bail!("`{key}` is not an array"),
    }
}

/// Trims a name, drops trailing `*` marks and collapses whitespace.
pub fn clean_name(raw: &str) -> String {
    let trimmed = raw.trim().trim_end_matches('*');
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collects the people of the file in order of first appearance, with the spellings of their
/// names and how often each appears.
#[derive(Default)]
struct PeopleBuilder {
    index_by_key: HashMap<String, usize>,
    keys: Vec<String>,
    spellings: Vec<Vec<(String, usize)>>,
}

impl PeopleBuilder {
    fn person_for(&mut self, name: &str) -> usize {
        let mut key = normalize_name(name);
        if key.is_empty() {
            // A name of punctuation only; it still stands for someone.
            key = name.to_lowercase();
        }
        let index = match self.index_by_key.get(&key) {
            Some(index) => *index,
            None => {
                let index = self.keys.len();
                self.index_by_key.insert(key.clone(), index);
                self.keys.push(key);
                self.spellings.push(Vec::new());
                index
            }
        };
        let spellings = &mut self.spellings[index];
        match spellings.iter_mut().find(|(spelling, _)| spelling == name) {
            Some((_, count)) => *count += 1,
            None => spellings.push((name.to_owned(), 1)),
        }
        index
    }

    fn finish(self, tag: Option<&str>) -> Vec<Person> {
        let mut used_usernames: BTreeSet<String> = BTreeSet::new();
        self.keys
            .into_iter()
            .zip(self.spellings)
            .map(|(key, spellings)| {
                let mut name = &spellings[0];
                for spelling in &spellings[1..] {
                    if spelling.1 > name.1 {
                        name = spelling;
                    }
                }
                let base = username_base(&key);
                let mut username = base.clone();
                let mut suffix = 2;
                while !used_usernames.insert(username.clone()) {
                    username = format!("{base}-{suffix}");
                    suffix += 1;
                }
                if let Some(tag) = tag {
                    username = format!("{username}+{tag}");
                }
                Person {
                    email: format!("{username}@{EMAIL_DOMAIN}"),
                    key,
                    name: name.0.clone(),
                    username,
                    domain: None,
                    papers: Vec::new(),
                }
            })
            .collect()
    }
}

/// Makes a username from a normalised name: its ASCII letters and digits, with a dot between
/// the words ("jorn henrik jacobsen" becomes `jorn.henrik.jacobsen`).
fn username_base(key: &str) -> String {
    let words: Vec<String> = key
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let mut base = words.join(".");
    base.truncate(100);
    if base.is_empty() {
        base = "author".to_owned();
    }
    base
}

/// Returns the one domain that every paper of the person lists, unless it is a public mail
/// provider.
fn attributed_domain(papers: &[usize], submissions: &[Submission]) -> Option<String> {
    let mut common: Option<BTreeSet<&str>> = None;
    for paper in papers {
        let domains: BTreeSet<&str> = submissions[*paper]
            .domains
            .iter()
            .map(String::as_str)
            .collect();
        common = Some(match common {
            None => domains,
            Some(common) => common.intersection(&domains).copied().collect(),
        });
    }
    let common = common?;
    if common.len() != 1 {
        return None;
    }
    let domain = *common.first()?;
    (!PUBLIC_MAIL_DOMAINS.contains(&domain)).then(|| domain.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dataset(document: Value) -> Dataset {
        Dataset::from_json(&document, None, None).unwrap()
    }

    #[test]
    fn names_merge_by_normalised_form() {
        let data = dataset(json!([
            {"title": "A", "authors": ["Yann LeCun", "Rémi Flamary*"], "emails": []},
            {"title": "B", "authors": ["Yann Lecun", "Remi  Flamary"], "emails": []},
            {"title": "C", "authors": ["Yann Lecun"], "emails": []},
        ]));
        assert_eq!(data.people.len(), 2);
        assert_eq!(data.people[0].name, "Yann Lecun");
        assert_eq!(data.people[0].papers, vec![0, 1, 2]);
        assert_eq!(data.people[1].name, "Rémi Flamary");
        assert_eq!(data.people[1].username, "remi.flamary");
        assert_eq!(data.people[1].email, "remi.flamary@example.org");
    }

    #[test]
    fn usernames_unique_and_tagged() {
        let document = json!([
            {"title": "A", "authors": ["Jo Li", "Jo Li 李"], "emails": []},
        ]);
        let data = Dataset::from_json(&document, None, Some("r1")).unwrap();
        assert_eq!(data.people[0].username, "jo.li+r1");
        assert_eq!(data.people[1].username, "jo.li-2+r1");
    }

    #[test]
    fn domain_only_when_unambiguous() {
        let data = dataset(json!([
            {"title": "A", "authors": ["Ann One", "Bo Two"], "emails": ["uni.edu"]},
            {"title": "B", "authors": ["Ann One", "Cy Three"], "emails": ["uni.edu", "lab.org"]},
            {"title": "C", "authors": ["Cy Three", "Di Four"], "emails": ["gmail.com"]},
            {"title": "D", "authors": ["Ed Five", "Fay Six"], "emails": ["a.edu", "b.edu"]},
        ]));
        let domain = |name: &str| {
            data.people
                .iter()
                .find(|person| person.name == name)
                .unwrap()
                .domain
                .clone()
        };
        assert_eq!(domain("Ann One").as_deref(), Some("uni.edu"));
        assert_eq!(domain("Bo Two").as_deref(), Some("uni.edu"));
        assert_eq!(domain("Cy Three"), None);
        assert_eq!(domain("Di Four"), None);
        assert_eq!(domain("Ed Five"), None);
    }

    #[test]
    fn year_from_decision_and_sample() {
        let document = json!([
            {"title": "A", "authors": ["Ann One"], "emails": [], "decision": "Accept (Poster)"},
            {"title": "B", "authors": ["Bo Two"], "emails": [], "decision": "Invite to Workshop Track"},
            {"title": "C", "authors": ["Cy Three"], "emails": [], "decision": "Reject"},
            {"title": "D", "authors": ["Di Four"], "emails": []},
        ]);
        let data = Dataset::from_json(&document, None, None).unwrap();
        let years: Vec<i32> = data.submissions.iter().map(|paper| paper.year).collect();
        assert_eq!(years, vec![2018, 2018, 2017, 2017]);

        let sample = Dataset::from_json(&document, Some(2), None).unwrap();
        assert_eq!(sample.submissions.len(), 2);
        assert_eq!(sample.people.len(), 2);
    }
}
