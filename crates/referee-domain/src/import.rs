//! The bulk import document (`"format": "referee-import/1"`) and its validation.
//!
//! [`validate`] reads a parsed JSON document and either returns the typed [`Document`] or
//! every problem it found, each located by a JSON pointer (RFC 6901). It checks types,
//! required keys, choices, formats and duplicates inside the document. References that do
//! not name something in the document (a round slug, a proposal slug, a reviewer's username,
//! an organisation UUID) are left for the store, which resolves them against existing data.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::enums::{
    AffiliationType, CallState, CoiSeverity, CoiStatus, CoiType, InvitationStatus,
    ProficiencyLevel, ProposalState, TeamMemberRole, VenueType, WireEnum,
};
use crate::validate::{is_email, is_orcid, username_problem};

/// The only format this version reads.
pub const FORMAT: &str = "referee-import/1";

/// A parsed JSON value, as read from the document. Object keys are sorted.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Array(Vec<Node>),
    Object(BTreeMap<String, Node>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Integer(_) | Node::Float(_) => "a number",
            Node::Text(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }
}

/// One problem with the document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportError {
    /// JSON pointer of the offending value (RFC 6901); `""` is the whole document.
    pub pointer: String,
    pub message: String,
}

impl ImportError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Appends a key or index to a pointer, escaping `~` and `/`.
pub fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub pointer: String,
    pub key: String,
    pub name: String,
    pub abbreviation: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallSection {
    pub pointer: String,
    /// When given, the call must be this one (importing into an existing call).
    pub uuid: Option<Uuid>,
    pub name: Option<String>,
    pub description: String,
    /// A key of `organisations` or the UUID of an existing organisation.
    pub organisation: Option<String>,
    pub state: CallState,
    pub rounds: Vec<RoundEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoundEntry {
    pub pointer: String,
    pub key: String,
    pub start_time: DateTime<Utc>,
    pub cutoff_time: DateTime<Utc>,
    pub review_duration_in_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProposalEntry {
    pub pointer: String,
    pub key: String,
    /// A key of `call.rounds`, or the slug of an existing round of the call.
    pub round: String,
    pub name: String,
    pub project_summary: String,
    pub description: String,
    pub state: ProposalState,
    pub team_members: Vec<TeamMemberEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamMemberEntry {
    pub pointer: String,
    pub full_name: String,
    pub email: String,
    pub orcid: Option<String>,
    pub organization: String,
    pub role: TeamMemberRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerEntry {
    pub pointer: String,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub orcid_id: Option<String>,
    pub biography: String,
    pub alternative_names: Vec<String>,
    pub available_for_reviews: bool,
    pub is_published: bool,
    pub affiliations: Vec<AffiliationEntry>,
    pub expertise: Vec<ExpertiseEntry>,
    pub publications: Vec<PublicationEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AffiliationEntry {
    pub organization_name: String,
    pub organization_identifier: String,
    pub department: String,
    pub position_title: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub is_primary: bool,
    pub affiliation_type: AffiliationType,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpertiseEntry {
    pub keyword: String,
    pub category: Option<String>,
    pub proficiency_level: ProficiencyLevel,
    pub years_experience: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublicationEntry {
    pub title: String,
    pub doi: Option<String>,
    pub publication_year: Option<i32>,
    pub venue: String,
    pub venue_type: VenueType,
    pub abstract_text: String,
    pub coauthors: Vec<String>,
    pub is_excluded_from_matching: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolEntryEntry {
    pub pointer: String,
    /// Username of a reviewer in the document or of an existing user with a profile.
    pub reviewer: String,
    pub invitation_status: InvitationStatus,
    pub max_assignments: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AffinityEntry {
    pub pointer: String,
    pub reviewer: String,
    /// A key of `proposals`, or the slug of an existing proposal of the call.
    pub proposal: String,
    pub affinity_score: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConflictEntry {
    pub pointer: String,
    pub reviewer: String,
    pub proposal: String,
    pub coi_type: CoiType,
    pub severity: CoiSeverity,
    pub status: CoiStatus,
    pub evidence_description: String,
}

/// A valid import document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub organisations: Vec<Organisation>,
    pub call: Option<CallSection>,
    pub proposals: Vec<ProposalEntry>,
    pub reviewers: Vec<ReviewerEntry>,
    pub pool: Vec<PoolEntryEntry>,
    pub affinities: Vec<AffinityEntry>,
    pub conflicts: Vec<ConflictEntry>,
}

/// Longest accepted text value, in characters.
const MAX_TEXT_CHARS: usize = 65_536;

/// Reads the keys of one object, recording every problem.
struct Fields<'a, 'e> {
    pointer: String,
    map: Option<&'a BTreeMap<String, Node>>,
    errors: &'e mut Vec<ImportError>,
}

impl<'a, 'e> Fields<'a, 'e> {
    fn open(
        node: &'a Node,
        pointer: String,
        allowed: &[&str],
        errors: &'e mut Vec<ImportError>,
    ) -> Self {
        let map = match node {
            Node::Object(map) => {
                for key in map.keys() {
                    if !allowed.contains(&key.as_str()) {
                        errors.push(ImportError::new(
                            child(&pointer, key),
                            format!(
                                "Unknown key {key:?}; expected one of: {}.",
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
                Some(map)
            }
            other => {
                errors.push(ImportError::new(
                    pointer.clone(),
                    format!("Expected an object, got {}.", other.kind()),
                ));
                None
            }
        };
        Self {
            pointer,
            map,
            errors,
        }
    }

    fn at(&self, key: &str) -> String {
        child(&self.pointer, key)
    }

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.map
            .and_then(|map| map.get(key))
            .filter(|node| !matches!(node, Node::Null))
    }

    fn fail(&mut self, key: &str, message: impl Into<String>) {
        let pointer = self.at(key);
        self.errors.push(ImportError::new(pointer, message));
    }

    fn text(&mut self, key: &str) -> Option<String> {
        match self.get(key) {
            None => None,
            Some(Node::Text(text)) => {
                if text.chars().count() > MAX_TEXT_CHARS {
                    self.fail(key, format!("Longer than {MAX_TEXT_CHARS} characters."));
                    None
                } else if text.contains('\0') {
                    self.fail(key, "Contains a NUL character, which cannot be stored.");
                    None
                } else {
                    Some(text.clone())
                }
            }
            Some(other) => {
                let kind = other.kind();
                self.fail(key, format!("Expected a string, got {kind}."));
                None
            }
        }
    }

    fn text_or_empty(&mut self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    /// A required string that must not be blank.
    fn required(&mut self, key: &str) -> Option<String> {
        self.map?;
        match self.text(key) {
            Some(text) if !text.trim().is_empty() => Some(text),
            Some(_) => {
                self.fail(key, "This value may not be blank.");
                None
            }
            None if self.get(key).is_none() => {
                self.fail(key, "This key is required.");
                None
            }
            None => None,
        }
    }

    fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(Node::Bool(value)) => *value,
            Some(other) => {
                let kind = other.kind();
                self.fail(key, format!("Expected true or false, got {kind}."));
                default
            }
        }
    }

    fn integer(&mut self, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i32> {
        match self.get(key) {
            None => None,
            Some(Node::Integer(value)) if range.contains(value) => i32::try_from(*value).ok(),
            Some(Node::Integer(value)) => {
                self.fail(
                    key,
                    format!(
                        "{value} is out of range; expected {} to {}.",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
            Some(other) => {
                let kind = other.kind();
                self.fail(key, format!("Expected a whole number, got {kind}."));
                None
            }
        }
    }

    fn score(&mut self, key: &str) -> Option<f64> {
        let value = match self.get(key) {
            None => return None,
            Some(Node::Integer(value)) => *value as f64,
            Some(Node::Float(value)) => *value,
            Some(other) => {
                let kind = other.kind();
                self.fail(key, format!("Expected a number from 0 to 1, got {kind}."));
                return None;
            }
        };
        if (0.0..=1.0).contains(&value) {
            Some(value)
        } else {
            self.fail(key, format!("{value} is out of range; expected 0 to 1."));
            None
        }
    }

    fn choice<E: WireEnum>(&mut self, key: &str, default: E) -> E {
        match self.text(key) {
            None => default,
            Some(text) => match text.parse::<E>() {
                Ok(value) => value,
                Err(error) => {
                    self.fail(key, error.to_string());
                    default
                }
            },
        }
    }

    fn time(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let text = self.required(key)?;
        match DateTime::parse_from_rfc3339(&text) {
            Ok(time) => Some(time.with_timezone(&Utc)),
            Err(_) => {
                self.fail(
                    key,
                    format!("{text:?} is not an RFC 3339 time such as 2027-01-31T12:00:00Z."),
                );
                None
            }
        }
    }

    fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let text = self.text(key)?;
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                self.fail(
                    key,
                    format!("{text:?} is not a date of the form YYYY-MM-DD."),
                );
                None
            }
        }
    }

    fn email(&mut self, key: &str, required: bool) -> Option<String> {
        let text = if required {
            self.required(key)?
        } else {
            self.text(key)?
        };
        if text.is_empty() && !required {
            return Some(text);
        }
        if is_email(&text) {
            Some(text)
        } else {
            self.fail(key, format!("{text:?} is not a valid e-mail address."));
            None
        }
    }

    fn orcid(&mut self, key: &str) -> Option<String> {
        let text = self.text(key)?;
        if text.is_empty() {
            return None;
        }
        if is_orcid(&text) {
            Some(text)
        } else {
            self.fail(
                key,
                format!("{text:?} is not an ORCID iD of the form 0000-0002-1825-0097."),
            );
            None
        }
    }

    fn strings(&mut self, key: &str) -> Vec<String> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let Node::Array(items) = node else {
            let kind = node.kind();
            self.fail(key, format!("Expected an array of strings, got {kind}."));
            return Vec::new();
        };
        let mut values = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match item {
                Node::Text(text) => values.push(text.clone()),
                other => {
                    let pointer = child(&self.at(key), &index.to_string());
                    self.errors.push(ImportError::new(
                        pointer,
                        format!("Expected a string, got {}.", other.kind()),
                    ));
                }
            }
        }
        values
    }

    /// The items of an array key with their pointers; absent is empty.
    fn array(&mut self, key: &str) -> Vec<(String, &'a Node)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let Node::Array(items) = node else {
            let kind = node.kind();
            self.fail(key, format!("Expected an array, got {kind}."));
            return Vec::new();
        };
        let base = self.at(key);
        items
            .iter()
            .enumerate()
            .map(|(index, item)| (child(&base, &index.to_string()), item))
            .collect()
    }
}

/// Records the first pointer of each value and reports later repeats.
struct Unique {
    seen: HashMap<String, String>,
    what: &'static str,
}

impl Unique {
    fn new(what: &'static str) -> Self {
        Self {
            seen: HashMap::new(),
            what,
        }
    }

    fn check(&mut self, value: &str, pointer: String, errors: &mut Vec<ImportError>) {
        if let Some(first) = self.seen.get(value) {
            errors.push(ImportError::new(
                pointer,
                format!(
                    "Duplicate {} {value:?}: already given at {first}.",
                    self.what
                ),
            ));
        } else {
            self.seen.insert(value.to_owned(), pointer);
        }
    }

    fn contains(&self, value: &str) -> bool {
        self.seen.contains_key(value)
    }
}

/// Validates a document. `into_existing_call` is true when the caller names the call to
/// import into; otherwise the document must describe a new call.
pub fn validate(root: &Node, into_existing_call: bool) -> Result<Document, Vec<ImportError>> {
    let mut errors = Vec::new();
    let mut document = Document::default();
    let mut top = Fields::open(
        root,
        String::new(),
        &[
            "format",
            "organisations",
            "call",
            "proposals",
            "reviewers",
            "pool",
            "affinities",
            "conflicts",
        ],
        &mut errors,
    );
    if top.map.is_none() {
        return Err(errors);
    }
    match top.text("format") {
        Some(format) if format == FORMAT => {}
        Some(format) => top.fail(
            "format",
            format!("Unsupported format {format:?}; this server reads {FORMAT:?}."),
        ),
        None if top.get("format").is_none() => top.fail(
            "format",
            format!("This key is required; set it to {FORMAT:?}."),
        ),
        None => {}
    }
    let organisation_nodes = top.array("organisations");
    let call_node = top.get("call");
    let proposal_nodes = top.array("proposals");
    let reviewer_nodes = top.array("reviewers");
    let pool_nodes = top.array("pool");
    let affinity_nodes = top.array("affinities");
    let conflict_nodes = top.array("conflicts");
    drop(top);

    let mut organisation_keys = Unique::new("organisation key");
    let mut organisation_names = Unique::new("organisation name");
    for (pointer, node) in organisation_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &["key", "name", "abbreviation", "email"],
            &mut errors,
        );
        let key = fields.required("key");
        let name = fields.required("name");
        let abbreviation = fields.text_or_empty("abbreviation");
        let email = fields.email("email", false).unwrap_or_default();
        let base = fields.pointer.clone();
        drop(fields);
        if let Some(key) = &key {
            organisation_keys.check(key, child(&base, "key"), &mut errors);
        }
        if let Some(name) = &name {
            organisation_names.check(&name.to_lowercase(), child(&base, "name"), &mut errors);
        }
        if let (Some(key), Some(name)) = (key, name) {
            document.organisations.push(Organisation {
                pointer: base,
                key,
                name,
                abbreviation,
                email,
            });
        }
    }

    let mut round_keys = Unique::new("round key");
    match call_node {
        None if !into_existing_call => errors.push(ImportError::new(
            "/call",
            "This key is required when no existing call is named; describe the call to create.",
        )),
        None => {}
        Some(node) => {
            let mut fields = Fields::open(
                node,
                "/call".to_owned(),
                &[
                    "uuid",
                    "name",
                    "description",
                    "organisation",
                    "state",
                    "rounds",
                ],
                &mut errors,
            );
            let uuid = match fields.text("uuid") {
                None => None,
                Some(text) => match Uuid::try_parse(text.trim()) {
                    Ok(uuid) => Some(uuid),
                    Err(_) => {
                        fields.fail("uuid", format!("{text:?} is not a valid UUID."));
                        None
                    }
                },
            };
            let name = if into_existing_call {
                fields.text("name")
            } else {
                fields.required("name")
            };
            let description = fields.text_or_empty("description");
            let organisation = if into_existing_call {
                fields.text("organisation")
            } else {
                fields.required("organisation")
            };
            if let Some(reference) = &organisation
                && !organisation_keys.contains(reference)
                && Uuid::try_parse(reference.trim()).is_err()
            {
                fields.fail(
                    "organisation",
                    format!(
                        "{reference:?} is neither a key of \"organisations\" nor the UUID of an existing organisation."
                    ),
                );
            }
            let state = fields.choice("state", CallState::Active);
            let round_nodes = fields.array("rounds");
            drop(fields);
            let mut rounds = Vec::new();
            for (pointer, node) in round_nodes {
                let mut fields = Fields::open(
                    node,
                    pointer,
                    &[
                        "key",
                        "start_time",
                        "cutoff_time",
                        "review_duration_in_days",
                    ],
                    &mut errors,
                );
                let key = fields.required("key");
                let start_time = fields.time("start_time");
                let cutoff_time = fields.time("cutoff_time");
                let review_duration_in_days = fields.integer("review_duration_in_days", 1..=365);
                if let (Some(start), Some(cutoff)) = (start_time, cutoff_time)
                    && cutoff <= start
                {
                    fields.fail(
                        "cutoff_time",
                        "The cutoff time must be after the start time.",
                    );
                }
                let base = fields.pointer.clone();
                drop(fields);
                if let Some(key) = &key {
                    round_keys.check(key, child(&base, "key"), &mut errors);
                }
                if let (Some(key), Some(start_time), Some(cutoff_time)) =
                    (key, start_time, cutoff_time)
                {
                    rounds.push(RoundEntry {
                        pointer: base,
                        key,
                        start_time,
                        cutoff_time,
                        review_duration_in_days,
                    });
                }
            }
            if !into_existing_call && round_keys.seen.is_empty() {
                errors.push(ImportError::new(
                    "/call/rounds",
                    "A new call needs at least one round.",
                ));
            }
            document.call = Some(CallSection {
                pointer: "/call".to_owned(),
                uuid,
                name,
                description,
                organisation,
                state,
                rounds,
            });
        }
    }

    let mut proposal_keys = Unique::new("proposal key");
    let mut proposal_names = Unique::new("proposal name");
    for (pointer, node) in proposal_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &[
                "key",
                "round",
                "name",
                "project_summary",
                "description",
                "state",
                "team_members",
            ],
            &mut errors,
        );
        let key = fields.required("key");
        let round = fields.required("round");
        if let Some(round) = &round
            && !round_keys.contains(round)
            && !into_existing_call
        {
            fields.fail(
                "round",
                format!("{round:?} is not a key of \"call.rounds\"."),
            );
        }
        let name = fields.required("name");
        let project_summary = fields.text_or_empty("project_summary");
        let description = fields.text_or_empty("description");
        let state = fields.choice("state", ProposalState::Submitted);
        let member_nodes = fields.array("team_members");
        let base = fields.pointer.clone();
        drop(fields);
        let mut team_members = Vec::new();
        let mut member_emails = Unique::new("team member e-mail");
        for (pointer, node) in member_nodes {
            let mut fields = Fields::open(
                node,
                pointer,
                &["full_name", "email", "orcid", "organization", "role"],
                &mut errors,
            );
            let full_name = fields.required("full_name");
            let email = fields.email("email", false).unwrap_or_default();
            let orcid = fields.orcid("orcid");
            let organization = fields.text_or_empty("organization");
            let role = fields.choice("role", TeamMemberRole::Member);
            let member_pointer = fields.pointer.clone();
            drop(fields);
            if !email.is_empty() {
                member_emails.check(
                    &email.to_lowercase(),
                    child(&member_pointer, "email"),
                    &mut errors,
                );
            }
            if let Some(full_name) = full_name {
                team_members.push(TeamMemberEntry {
                    pointer: member_pointer,
                    full_name,
                    email,
                    orcid,
                    organization,
                    role,
                });
            }
        }
        if let Some(key) = &key {
            proposal_keys.check(key, child(&base, "key"), &mut errors);
        }
        if let Some(name) = &name {
            proposal_names.check(name, child(&base, "name"), &mut errors);
        }
        if let (Some(key), Some(round), Some(name)) = (key, round, name) {
            document.proposals.push(ProposalEntry {
                pointer: base,
                key,
                round,
                name,
                project_summary,
                description,
                state,
                team_members,
            });
        }
    }

    let mut usernames = Unique::new("reviewer username");
    let mut reviewer_emails = Unique::new("reviewer e-mail");
    let mut orcids = Unique::new("ORCID iD");
    for (pointer, node) in reviewer_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &[
                "username",
                "email",
                "full_name",
                "orcid_id",
                "biography",
                "alternative_names",
                "available_for_reviews",
                "is_published",
                "affiliations",
                "expertise",
                "publications",
            ],
            &mut errors,
        );
        let username = fields.required("username");
        if let Some(name) = &username
            && let Some(problem) = username_problem(name)
        {
            fields.fail("username", problem);
        }
        let email = fields.email("email", true);
        let full_name = fields.text_or_empty("full_name");
        let orcid_id = fields.orcid("orcid_id");
        let biography = fields.text_or_empty("biography");
        let alternative_names = fields.strings("alternative_names");
        let available_for_reviews = fields.boolean("available_for_reviews", true);
        let is_published = fields.boolean("is_published", true);
        let affiliation_nodes = fields.array("affiliations");
        let expertise_nodes = fields.array("expertise");
        let publication_nodes = fields.array("publications");
        let base = fields.pointer.clone();
        drop(fields);

        let mut affiliations = Vec::new();
        for (pointer, node) in affiliation_nodes {
            let mut fields = Fields::open(
                node,
                pointer,
                &[
                    "organization_name",
                    "organization_identifier",
                    "department",
                    "position_title",
                    "start_date",
                    "end_date",
                    "is_primary",
                    "affiliation_type",
                ],
                &mut errors,
            );
            let organization_name = fields.required("organization_name");
            let organization_identifier = fields.text_or_empty("organization_identifier");
            let department = fields.text_or_empty("department");
            let position_title = fields.text_or_empty("position_title");
            let start_date = fields.date("start_date");
            let end_date = fields.date("end_date");
            if let (Some(start), Some(end)) = (start_date, end_date)
                && end < start
            {
                fields.fail(
                    "end_date",
                    "The end date must not be before the start date.",
                );
            }
            let is_primary = fields.boolean("is_primary", false);
            let affiliation_type = fields.choice("affiliation_type", AffiliationType::Employment);
            drop(fields);
            if let Some(organization_name) = organization_name {
                affiliations.push(AffiliationEntry {
                    organization_name,
                    organization_identifier,
                    department,
                    position_title,
                    start_date,
                    end_date,
                    is_primary,
                    affiliation_type,
                });
            }
        }

        let mut expertise = Vec::new();
        let mut keywords = Unique::new("expertise keyword");
        for (pointer, node) in expertise_nodes {
            let mut fields = Fields::open(
                node,
                pointer,
                &[
                    "keyword",
                    "category",
                    "proficiency_level",
                    "years_experience",
                ],
                &mut errors,
            );
            let keyword = fields.required("keyword");
            let category = fields.text("category");
            let proficiency_level = fields.choice("proficiency_level", ProficiencyLevel::Familiar);
            let years_experience = fields.integer("years_experience", 0..=100);
            let keyword_pointer = fields.at("keyword");
            drop(fields);
            if let Some(keyword) = keyword {
                keywords.check(&keyword.to_lowercase(), keyword_pointer, &mut errors);
                expertise.push(ExpertiseEntry {
                    keyword,
                    category,
                    proficiency_level,
                    years_experience,
                });
            }
        }

        let mut publications = Vec::new();
        for (pointer, node) in publication_nodes {
            let mut fields = Fields::open(
                node,
                pointer,
                &[
                    "title",
                    "doi",
                    "publication_year",
                    "venue",
                    "venue_type",
                    "abstract",
                    "coauthors",
                    "is_excluded_from_matching",
                ],
                &mut errors,
            );
            let title = fields.required("title");
            let doi = fields.text("doi").filter(|doi| !doi.is_empty());
            let publication_year = fields.integer("publication_year", 1900..=2100);
            let venue = fields.text_or_empty("venue");
            let venue_type = fields.choice("venue_type", VenueType::Other);
            let abstract_text = fields.text_or_empty("abstract");
            let coauthors = fields.strings("coauthors");
            let is_excluded_from_matching = fields.boolean("is_excluded_from_matching", false);
            drop(fields);
            if let Some(title) = title {
                publications.push(PublicationEntry {
                    title,
                    doi,
                    publication_year,
                    venue,
                    venue_type,
                    abstract_text,
                    coauthors,
                    is_excluded_from_matching,
                });
            }
        }

        if let Some(username) = &username {
            usernames.check(username, child(&base, "username"), &mut errors);
        }
        if let Some(email) = &email {
            reviewer_emails.check(&email.to_lowercase(), child(&base, "email"), &mut errors);
        }
        if let Some(orcid) = &orcid_id {
            orcids.check(orcid, child(&base, "orcid_id"), &mut errors);
        }
        if let (Some(username), Some(email)) = (username, email) {
            document.reviewers.push(ReviewerEntry {
                pointer: base,
                username,
                email,
                full_name,
                orcid_id,
                biography,
                alternative_names,
                available_for_reviews,
                is_published,
                affiliations,
                expertise,
                publications,
            });
        }
    }

    let mut pool_reviewers = Unique::new("pool reviewer");
    for (pointer, node) in pool_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &["reviewer", "invitation_status", "max_assignments"],
            &mut errors,
        );
        let reviewer = fields.required("reviewer");
        let invitation_status = fields.choice("invitation_status", InvitationStatus::Accepted);
        let max_assignments = fields.integer("max_assignments", 1..=50).unwrap_or(5);
        let base = fields.pointer.clone();
        drop(fields);
        if let Some(reviewer) = reviewer {
            pool_reviewers.check(&reviewer, child(&base, "reviewer"), &mut errors);
            document.pool.push(PoolEntryEntry {
                pointer: base,
                reviewer,
                invitation_status,
                max_assignments,
            });
        }
    }

    let mut affinity_pairs = Unique::new("affinity for reviewer and proposal");
    for (pointer, node) in affinity_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &[
                "reviewer",
                "proposal",
                "affinity_score",
                "keyword_score",
                "text_score",
            ],
            &mut errors,
        );
        let reviewer = fields.required("reviewer");
        let proposal = fields.required("proposal");
        let affinity_score = fields.score("affinity_score");
        if fields.map.is_some() && fields.get("affinity_score").is_none() {
            fields.fail("affinity_score", "This key is required.");
        }
        let keyword_score = fields.score("keyword_score");
        let text_score = fields.score("text_score");
        let base = fields.pointer.clone();
        drop(fields);
        if let (Some(reviewer), Some(proposal), Some(affinity_score)) =
            (reviewer, proposal, affinity_score)
        {
            affinity_pairs.check(
                &format!("{reviewer} / {proposal}"),
                base.clone(),
                &mut errors,
            );
            document.affinities.push(AffinityEntry {
                pointer: base,
                reviewer,
                proposal,
                affinity_score,
                keyword_score,
                text_score,
            });
        }
    }

    let mut conflict_keys = Unique::new("conflict for reviewer, proposal and type");
    for (pointer, node) in conflict_nodes {
        let mut fields = Fields::open(
            node,
            pointer,
            &[
                "reviewer",
                "proposal",
                "coi_type",
                "severity",
                "status",
                "evidence_description",
            ],
            &mut errors,
        );
        let reviewer = fields.required("reviewer");
        let proposal = fields.required("proposal");
        let coi_type = match fields.required("coi_type") {
            Some(text) => match text.parse::<CoiType>() {
                Ok(value) => Some(value),
                Err(error) => {
                    fields.fail("coi_type", error.to_string());
                    None
                }
            },
            None => None,
        };
        let severity = match fields.get("severity") {
            None => coi_type.map(CoiType::default_severity),
            Some(_) => Some(fields.choice("severity", CoiSeverity::Potential)),
        };
        let status = fields.choice("status", CoiStatus::Pending);
        let evidence_description = fields.text_or_empty("evidence_description");
        let base = fields.pointer.clone();
        drop(fields);
        if let (Some(reviewer), Some(proposal), Some(coi_type), Some(severity)) =
            (reviewer, proposal, coi_type, severity)
        {
            conflict_keys.check(
                &format!("{reviewer} / {proposal} / {coi_type}"),
                base.clone(),
                &mut errors,
            );
            document.conflicts.push(ConflictEntry {
                pointer: base,
                reviewer,
                proposal,
                coi_type,
                severity,
                status,
                evidence_description,
            });
        }
    }

    if errors.is_empty() {
        Ok(document)
    } else {
        Err(errors)
    }
}

impl Document {
    /// Usernames of reviewers described in the document.
    pub fn reviewer_usernames(&self) -> HashSet<&str> {
        self.reviewers
            .iter()
            .map(|reviewer| reviewer.username.as_str())
            .collect()
    }

    /// Keys of proposals described in the document.
    pub fn proposal_keys(&self) -> HashSet<&str> {
        self.proposals
            .iter()
            .map(|proposal| proposal.key.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        serde_json::from_str(text).unwrap()
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "format": FORMAT,
            "organisations": [{"key": "uni", "name": "University"}],
            "call": {
                "name": "Beam time",
                "organisation": "uni",
                "rounds": [{"key": "r1", "start_time": "2027-01-01T00:00:00Z", "cutoff_time": "2027-02-01T00:00:00Z"}]
            },
            "proposals": [{"key": "p1", "round": "r1", "name": "Crystals", "team_members": [{"full_name": "Ann", "email": "ann@example.org"}]}],
            "reviewers": [{"username": "rev", "email": "rev@example.org", "expertise": [{"keyword": "optics"}]}],
            "pool": [{"reviewer": "rev"}],
            "affinities": [{"reviewer": "rev", "proposal": "p1", "affinity_score": 0.5}],
            "conflicts": [{"reviewer": "rev", "proposal": "p1", "coi_type": "INST_SAME"}]
        })
    }

    fn pointers(value: serde_json::Value, existing: bool) -> Vec<String> {
        let node = parse(&value.to_string());
        validate(&node, existing)
            .unwrap_err()
            .into_iter()
            .map(|error| error.pointer)
            .collect()
    }

    #[test]
    fn validate_accepts_minimal_document() {
        let document = validate(&parse(&minimal().to_string()), false).unwrap();
        assert_eq!(document.proposals[0].state, ProposalState::Submitted);
        assert_eq!(
            document.pool[0].invitation_status,
            InvitationStatus::Accepted
        );
        assert_eq!(document.conflicts[0].severity, CoiSeverity::Real);
    }

    #[test]
    fn validate_reports_every_error_with_pointer() {
        let mut value = minimal();
        value["format"] = "other/1".into();
        value["proposals"][0]["team_members"][0]["email"] = "not-an-address".into();
        value["reviewers"][0]["expertise"][0]["proficiency_level"] = "guru".into();
        value["affinities"][0]["affinity_score"] = 3.into();
        let found = pointers(value, false);
        assert_eq!(
            found,
            vec![
                "/format",
                "/proposals/0/team_members/0/email",
                "/reviewers/0/expertise/0/proficiency_level",
                "/affinities/0/affinity_score",
            ]
        );
    }

    #[test]
    fn validate_reports_duplicates() {
        let mut value = minimal();
        let reviewer = value["reviewers"][0].clone();
        value["reviewers"].as_array_mut().unwrap().push(reviewer);
        let pool = value["pool"][0].clone();
        value["pool"].as_array_mut().unwrap().push(pool);
        let found = pointers(value, false);
        assert_eq!(
            found,
            vec![
                "/reviewers/1/username",
                "/reviewers/1/email",
                "/pool/1/reviewer"
            ]
        );
    }

    #[test]
    fn validate_requires_call_for_new_call() {
        let mut value = minimal();
        value.as_object_mut().unwrap().remove("call");
        value["proposals"][0]["round"] = "R1".into();
        assert!(pointers(value.clone(), false).contains(&"/call".to_owned()));
        let node = parse(&value.to_string());
        assert!(validate(&node, true).is_ok());
    }

    #[test]
    fn validate_rejects_unknown_keys_and_wrong_types() {
        let mut value = minimal();
        value["proposals"][0]["colour"] = "red".into();
        value["reviewers"][0]["available_for_reviews"] = "yes".into();
        let found = pointers(value, false);
        assert_eq!(
            found,
            vec!["/proposals/0/colour", "/reviewers/0/available_for_reviews"]
        );
    }

    #[test]
    fn child_escapes_pointer_tokens() {
        assert_eq!(child("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
