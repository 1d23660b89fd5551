//! Automatic conflict-of-interest detection: the rules that compare one reviewer with the
//! team of one proposal.
//!
//! Three rules run per (reviewer, proposal) pair, each switched on by the call's COI
//! configuration:
//! - named personnel: the reviewer is a team member (same user account, ORCID iD, e-mail or
//!   name) and gets `ROLE_NAMED`, severity `real`;
//! - institutional: a current or recent affiliation of the reviewer matches a team member's
//!   organisation name or e-mail domain and gets `INST_SAME` (`real`) or `INST_FORMER`
//!   (`apparent`);
//! - co-authorship: recent publications of the reviewer list a team member as co-author and
//!   get `COAUTH_RECENT` or `COAUTH_OLD`.
//!
//! Names are compared after [`normalize_name`] with [`name_similarity`], a normalised
//! Levenshtein similarity: `1 - distance / max(length)` counted in characters.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use crate::enums::{CoiSeverity, CoiType};

mod prepared;

use prepared::{NameKey, PreparedAffiliation, PreparedMember, PreparedPublication};
pub use prepared::{PreparedReviewer, PreparedTeam};

/// Minimum [`name_similarity`] at which a team member counts as the reviewer.
pub const NAMED_SIMILARITY: f64 = 0.90;

/// Minimum [`name_similarity`] at which a co-author counts as a team member.
pub const COAUTHOR_SIMILARITY: f64 = 0.85;

/// Recent papers at or above which a co-authorship conflict is `real` instead of `apparent`.
pub const REAL_COAUTHORSHIP_PAPERS: usize = 3;

/// E-mail domains of public mail providers, and the domains reserved for examples by
/// RFC 2606. A domain from this list is not evidence of a shared institution.
pub const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
    "126.com",
    "example.com",
    "example.org",
    "example.net",
];

/// A member of a proposal's team.
#[derive(Debug, Clone, Default)]
pub struct TeamMemberFacts {
    pub user_uuid: Option<Uuid>,
    pub full_name: String,
    pub email: String,
    pub orcid: Option<String>,
    pub organization: String,
    /// Wire value of the member's role, for example `principal_investigator`.
    pub role: String,
}

/// One affiliation of a reviewer.
#[derive(Debug, Clone, Default)]
pub struct AffiliationFacts {
    pub organization_uuid: Option<Uuid>,
    pub organization_name: String,
    /// A domain such as `uni-example.edu`, or another identifier (ignored unless it reads as
    /// a domain).
    pub organization_identifier: String,
    pub department: String,
    pub position_title: String,
    pub affiliation_type: String,
    pub start_date: Option<NaiveDate>,
    /// `None` while the affiliation lasts.
    pub end_date: Option<NaiveDate>,
}

/// A co-author entry of a publication.
#[derive(Debug, Clone, Default)]
pub struct CoauthorFacts {
    pub name: String,
    pub orcid: Option<String>,
}

/// One publication of a reviewer.
#[derive(Debug, Clone, Default)]
pub struct PublicationFacts {
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub coauthors: Vec<CoauthorFacts>,
}

/// The reviewer data that the rules compare with a team.
#[derive(Debug, Clone, Default)]
pub struct ReviewerFacts {
    pub user_uuid: Option<Uuid>,
    pub full_name: String,
    pub email: String,
    pub orcid: Option<String>,
    pub alternative_names: Vec<String>,
    pub affiliations: Vec<AffiliationFacts>,
    pub publications: Vec<PublicationFacts>,
}

/// The switches and windows of a call's COI configuration that detection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectionSettings {
    pub named_personnel: bool,
    /// Both `auto_detect_institutional` and `include_same_institution`.
    pub institutional: bool,
    pub coauthorship: bool,
    pub institutional_lookback_years: i32,
    pub coauthorship_lookback_years: i32,
    pub coauthorship_threshold_papers: i32,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            named_personnel: true,
            institutional: true,
            coauthorship: true,
            institutional_lookback_years: 2,
            coauthorship_lookback_years: 3,
            coauthorship_threshold_papers: 1,
        }
    }
}

/// A conflict that a rule found for one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub coi_type: CoiType,
    pub severity: CoiSeverity,
    pub conflicting_user_uuid: Option<Uuid>,
    pub conflicting_organization_uuid: Option<Uuid>,
    /// One sentence for `evidence_description`.
    pub description: String,
    pub evidence: Evidence,
}

/// Evidence of a finding: the values that matched, stored as the conflict's `evidence_data` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    Named(NamedEvidence),
    Institutional(InstitutionalEvidence),
    Coauthorship(CoauthorshipEvidence),
}

/// Evidence of a `ROLE_NAMED` conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedEvidence {
    /// `user_account`, `orcid`, `email`, `full_name` or `alternative_name`.
    pub match_reason: &'static str,
    pub role_in_proposal: String,
    pub team_member_name: String,
    /// The reviewer's name or alternative name that matched, or the shared identifier.
    pub matched_name: String,
    /// Name similarity for the name reasons; `None` for identifiers.
    pub similarity: Option<f64>,
}

/// Evidence of an `INST_SAME` or `INST_FORMER` conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstitutionalEvidence {
    /// `organization_name`, `organization_domain` or `reviewer_email_domain`.
    pub match_reason: &'static str,
    /// The normalised name or the domain both sides share.
    pub matched_value: String,
    pub organization_name: String,
    pub affiliation_type: Option<String>,
    pub position: Option<String>,
    pub department: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub is_current: bool,
    pub team_member_name: String,
    pub team_member_role: String,
}

/// Evidence of a `COAUTH_RECENT` or `COAUTH_OLD` conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoauthorshipEvidence {
    pub shared_publications: Vec<SharedPublication>,
    pub paper_count: usize,
    pub recent_paper_count: usize,
    pub lookback_years: i32,
    /// The first matched member; `team_members` lists all of them.
    pub team_member_name: String,
    pub team_member_role: String,
    pub team_members: Vec<MatchedMember>,
}

/// A publication shared by the reviewer and a team member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedPublication {
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    /// `orcid` or `name`.
    pub match_type: &'static str,
    pub coauthor_name: String,
}

/// A team member named in a co-authorship conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedMember {
    pub name: String,
    pub role: String,
}

/// Lower-cases a name, replaces common accented Latin letters by their base letters, drops
/// apostrophes, turns other punctuation into spaces and collapses whitespace.
pub fn normalize_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for character in name.chars().flat_map(char::to_lowercase) {
        if matches!(character, '\'' | '\u{2019}' | '`') {
            continue;
        }
        match fold_accent(character) {
            Some(base) => folded.push_str(base),
            None if character.is_alphanumeric() => folded.push(character),
            None => folded.push(' '),
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns the base letters of an accented Latin letter, or `None` for any other character.
fn fold_accent(character: char) -> Option<&'static str> {
    let base = match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    };
    Some(base)
}

/// Computes the similarity of two names in `[0, 1]`: `1 - levenshtein / max(length)` over the characters
/// of the normalised names. Equal normalised names score 1; an empty name scores 0.
pub fn name_similarity(left: &str, right: &str) -> f64 {
    NameKey::new(left).similarity(&NameKey::new(right))
}

/// The bare ORCID iD in upper case (`0000-0002-1825-009X`), without an `orcid.org` prefix;
/// `None` when empty.
pub fn normalize_orcid(orcid: &str) -> Option<String> {
    let trimmed = orcid.trim();
    let bare = ["https://orcid.org/", "http://orcid.org/", "orcid.org/"]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix))
        .unwrap_or(trimmed);
    (!bare.is_empty()).then(|| bare.to_ascii_uppercase())
}

/// Returns the lower-case domain of an e-mail address, or `None` without one or for a public
/// mail provider listed in [`PUBLIC_MAIL_DOMAINS`].
pub fn institutional_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    institutional(domain)
}

/// Reads an organisation identifier as a domain (`uni.edu`, `@uni.edu`, `https://www.uni.edu/`);
/// `None` for identifiers that are no domain, such as a ROR URL with a path.
fn identifier_domain(identifier: &str) -> Option<String> {
    let mut text = identifier.trim().to_lowercase();
    for prefix in ["https://", "http://", "@", "www."] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.to_owned();
        }
    }
    let text = text.trim_end_matches('/');
    if text.contains('/') || text.contains(' ') {
        return None;
    }
    institutional(text)
}

fn institutional(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    if !domain.contains('.') || PUBLIC_MAIL_DOMAINS.contains(&domain.as_str()) {
        return None;
    }
    Some(domain)
}

/// Checks whether two domains name the same institution: equal, or one is a subdomain of the other
/// (`cs.uni.edu` and `uni.edu`).
fn same_institution_domain(left: &str, right: &str) -> bool {
    left == right || left.ends_with(&format!(".{right}")) || right.ends_with(&format!(".{left}"))
}

/// Runs every enabled rule for one pair. `today` fixes the lookback windows. At most one
/// finding is returned per (type, conflicting user).
pub fn detect_conflicts(
    reviewer: &ReviewerFacts,
    team: &[TeamMemberFacts],
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    detect_prepared(
        &PreparedReviewer::new(reviewer),
        &PreparedTeam::new(team),
        settings,
        today,
    )
}

/// Runs every enabled rule for one pair, as [`detect_conflicts`] does, on facts prepared once
/// for comparing one reviewer with many teams and one team with many reviewers.
pub fn detect_prepared(
    reviewer: &PreparedReviewer<'_>,
    team: &PreparedTeam<'_>,
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if settings.named_personnel
        && let Some(finding) = named_in_team(reviewer, team)
    {
        findings.push(finding);
    }
    if settings.institutional {
        findings.extend(institutional_in_team(reviewer, team, settings, today));
    }
    if settings.coauthorship {
        findings.extend(coauthorship_in_team(reviewer, team, settings, today));
    }

    let mut seen = BTreeSet::new();
    findings.retain(|finding| seen.insert((finding.coi_type, finding.conflicting_user_uuid)));
    findings
}

/// Finds the first team member who is the reviewer and returns it as a `ROLE_NAMED` finding.
pub fn named_personnel(reviewer: &ReviewerFacts, team: &[TeamMemberFacts]) -> Option<Finding> {
    named_in_team(&PreparedReviewer::new(reviewer), &PreparedTeam::new(team))
}

fn named_in_team(reviewer: &PreparedReviewer<'_>, team: &PreparedTeam<'_>) -> Option<Finding> {
    team.members.iter().find_map(|member| {
        let evidence = named_match(reviewer, member)?;
        let reason = match evidence.match_reason {
            "user_account" => "the same user account",
            "orcid" => "the same ORCID iD",
            "email" => "the same e-mail address",
            "full_name" => "a matching name",
            _ => "a matching alternative name",
        };
        Some(Finding {
            coi_type: CoiType::RoleNamed,
            severity: CoiSeverity::Real,
            conflicting_user_uuid: member.facts.user_uuid.or(reviewer.facts.user_uuid),
            conflicting_organization_uuid: None,
            description: format!(
                "The reviewer is named on the proposal as {} ({reason}).",
                member.facts.full_name
            ),
            evidence: Evidence::Named(evidence),
        })
    })
}

fn named_match(
    reviewer: &PreparedReviewer<'_>,
    member: &PreparedMember<'_>,
) -> Option<NamedEvidence> {
    let evidence = |match_reason, matched_name: &str, similarity| NamedEvidence {
        match_reason,
        role_in_proposal: member.facts.role.clone(),
        team_member_name: member.facts.full_name.clone(),
        matched_name: matched_name.to_owned(),
        similarity,
    };

    if let (Some(reviewer_user), Some(member_user)) =
        (reviewer.facts.user_uuid, member.facts.user_uuid)
        && reviewer_user == member_user
    {
        return Some(evidence("user_account", &reviewer.facts.full_name, None));
    }
    if let (Some(reviewer_orcid), Some(member_orcid)) = (&reviewer.orcid, &member.orcid)
        && reviewer_orcid == member_orcid
    {
        return Some(evidence("orcid", reviewer_orcid, None));
    }
    let reviewer_email = reviewer.facts.email.trim();
    if !reviewer_email.is_empty() && reviewer_email.eq_ignore_ascii_case(member.facts.email.trim())
    {
        return Some(evidence("email", reviewer_email, None));
    }
    if let Some(similarity) = reviewer
        .name
        .similarity_at_least(&member.name, NAMED_SIMILARITY)
    {
        return Some(evidence(
            "full_name",
            &reviewer.facts.full_name,
            Some(similarity),
        ));
    }
    reviewer.alternative_names.iter().find_map(|(name, key)| {
        key.similarity_at_least(&member.name, NAMED_SIMILARITY)
            .map(|similarity| evidence("alternative_name", name, Some(similarity)))
    })
}

/// `INST_SAME` for a current shared institution and `INST_FORMER` for an affiliation that
/// ended within `institutional_lookback_years` (counted as 365 days each).
pub fn institutional_conflicts(
    reviewer: &ReviewerFacts,
    team: &[TeamMemberFacts],
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    institutional_in_team(
        &PreparedReviewer::new(reviewer),
        &PreparedTeam::new(team),
        settings,
        today,
    )
}

fn institutional_in_team(
    reviewer: &PreparedReviewer<'_>,
    team: &PreparedTeam<'_>,
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    let lookback_days =
        u64::try_from(settings.institutional_lookback_years.max(0)).unwrap_or(0) * 365;
    let cutoff = today
        .checked_sub_days(Days::new(lookback_days))
        .unwrap_or(NaiveDate::MIN);

    let mut current: Option<Finding> = None;
    let mut former: Option<Finding> = None;
    for affiliation in &reviewer.affiliations {
        let end_date = affiliation.facts.end_date;
        let is_current = end_date.is_none_or(|end| end >= today);
        if !is_current && end_date.is_some_and(|end| end < cutoff) {
            continue;
        }
        let slot = if is_current {
            &mut current
        } else {
            &mut former
        };
        if slot.is_some() {
            continue;
        }
        if let Some((member, reason, value)) = affiliation_match(affiliation, team) {
            *slot = Some(institution_finding(
                reason,
                value,
                Some(affiliation.facts),
                is_current,
                member,
            ));
        }
    }

    if current.is_none()
        && let Some(reviewer_domain) = &reviewer.email_domain
    {
        current = team.members.iter().find_map(|member| {
            let member_domain = member.email_domain.as_deref()?;
            same_institution_domain(reviewer_domain, member_domain).then(|| {
                institution_finding(
                    "reviewer_email_domain",
                    reviewer_domain.clone(),
                    None,
                    true,
                    member.facts,
                )
            })
        });
    }
    current.into_iter().chain(former).collect()
}

fn affiliation_match<'a>(
    affiliation: &PreparedAffiliation<'_>,
    team: &PreparedTeam<'a>,
) -> Option<(&'a TeamMemberFacts, &'static str, String)> {
    team.members.iter().find_map(|member| {
        if !affiliation.name.is_empty() && member.organization == affiliation.name {
            return Some((member.facts, "organization_name", affiliation.name.clone()));
        }
        let member_domain = member.email_domain.as_deref()?;
        let domain = affiliation.domain.as_deref()?;
        same_institution_domain(domain, member_domain)
            .then(|| (member.facts, "organization_domain", domain.to_owned()))
    })
}

fn institution_finding(
    match_reason: &'static str,
    matched_value: String,
    affiliation: Option<&AffiliationFacts>,
    is_current: bool,
    member: &TeamMemberFacts,
) -> Finding {
    let (coi_type, severity) = if is_current {
        (CoiType::InstSame, CoiSeverity::Real)
    } else {
        (CoiType::InstFormer, CoiSeverity::Apparent)
    };
    let organization_name = match affiliation {
        Some(affiliation) if !affiliation.organization_name.is_empty() => {
            affiliation.organization_name.clone()
        }
        _ if !member.organization.is_empty() => member.organization.clone(),
        _ => matched_value.clone(),
    };
    let description = if is_current {
        format!(
            "The reviewer works at {organization_name}, the institution of team member {}.",
            member.full_name
        )
    } else {
        format!(
            "The reviewer worked at {organization_name}, the institution of team member {}, within the lookback period.",
            member.full_name
        )
    };
    Finding {
        coi_type,
        severity,
        conflicting_user_uuid: None,
        conflicting_organization_uuid: affiliation.and_then(|a| a.organization_uuid),
        description,
        evidence: Evidence::Institutional(InstitutionalEvidence {
            match_reason,
            matched_value,
            organization_name,
            affiliation_type: affiliation.map(|a| a.affiliation_type.clone()),
            position: affiliation.map(|a| a.position_title.clone()),
            department: affiliation.map(|a| a.department.clone()),
            start_date: affiliation.and_then(|a| a.start_date),
            end_date: affiliation.and_then(|a| a.end_date),
            is_current,
            team_member_name: member.full_name.clone(),
            team_member_role: member.role.clone(),
        }),
    }
}

/// Co-authorship findings: one per team member with a user account, plus one for all
/// matched members without an account (they share the conflicting user `None`).
pub fn coauthorship(
    reviewer: &ReviewerFacts,
    team: &[TeamMemberFacts],
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    coauthorship_in_team(
        &PreparedReviewer::new(reviewer),
        &PreparedTeam::new(team),
        settings,
        today,
    )
}

fn coauthorship_in_team(
    reviewer: &PreparedReviewer<'_>,
    team: &PreparedTeam<'_>,
    settings: &DetectionSettings,
    today: NaiveDate,
) -> Vec<Finding> {
    let first_year = today.year() - settings.coauthorship_lookback_years.max(0);
    let publications: Vec<&PreparedPublication<'_>> = reviewer
        .publications
        .iter()
        .filter(|publication| {
            publication
                .facts
                .year
                .is_some_and(|year| year >= first_year)
        })
        .collect();
    if publications.is_empty() {
        return Vec::new();
    }

    let mut groups: Vec<(Option<Uuid>, Vec<MatchedMember>, Vec<SharedPublication>)> = Vec::new();
    for member in &team.members {
        let shared = shared_publications(&publications, member);
        if shared.is_empty() {
            continue;
        }
        let matched = MatchedMember {
            name: member.facts.full_name.clone(),
            role: member.facts.role.clone(),
        };
        match groups
            .iter_mut()
            .find(|group| group.0 == member.facts.user_uuid)
        {
            Some(group) => {
                group.1.push(matched);
                for publication in shared {
                    if !group.2.iter().any(|known| same_paper(known, &publication)) {
                        group.2.push(publication);
                    }
                }
            }
            None => groups.push((member.facts.user_uuid, vec![matched], shared)),
        }
    }
    let threshold = usize::try_from(settings.coauthorship_threshold_papers.max(1)).unwrap_or(1);
    groups
        .into_iter()
        .filter(|(_, _, shared)| shared.len() >= threshold)
        .map(|(user_uuid, members, shared)| {
            let recent = shared
                .iter()
                .filter(|publication| {
                    publication
                        .year
                        .is_some_and(|year| year >= today.year() - 1)
                })
                .count();
            let coi_type = if recent > 0 {
                CoiType::CoauthRecent
            } else {
                CoiType::CoauthOld
            };
            let severity = if recent >= REAL_COAUTHORSHIP_PAPERS {
                CoiSeverity::Real
            } else {
                CoiSeverity::Apparent
            };
            let names: Vec<&str> = members.iter().map(|member| member.name.as_str()).collect();
            Finding {
                coi_type,
                severity,
                conflicting_user_uuid: user_uuid,
                conflicting_organization_uuid: None,
                description: format!(
                    "The reviewer co-authored {} publication(s) since {first_year} with {}.",
                    shared.len(),
                    names.join(", ")
                ),
                evidence: Evidence::Coauthorship(CoauthorshipEvidence {
                    paper_count: shared.len(),
                    recent_paper_count: recent,
                    lookback_years: settings.coauthorship_lookback_years,
                    team_member_name: members[0].name.clone(),
                    team_member_role: members[0].role.clone(),
                    team_members: members,
                    shared_publications: shared,
                }),
            }
        })
        .collect()
}

/// Publications with a co-author who is the member, counted once per DOI or title.
fn shared_publications(
    publications: &[&PreparedPublication<'_>],
    member: &PreparedMember<'_>,
) -> Vec<SharedPublication> {
    let mut shared: Vec<SharedPublication> = Vec::new();
    for publication in publications {
        let matched = publication.coauthors.iter().find_map(|coauthor| {
            if member.orcid.is_some() && coauthor.orcid == member.orcid {
                return Some(("orcid", coauthor.facts));
            }
            coauthor
                .name
                .similarity_at_least(&member.name, COAUTHOR_SIMILARITY)
                .map(|_| ("name", coauthor.facts))
        });
        let Some((match_type, coauthor)) = matched else {
            continue;
        };
        let publication = publication.facts;
        let candidate = SharedPublication {
            title: publication.title.clone(),
            doi: publication.doi.clone().filter(|doi| !doi.trim().is_empty()),
            year: publication.year,
            match_type,
            coauthor_name: coauthor.name.clone(),
        };
        if !shared.iter().any(|known| same_paper(known, &candidate)) {
            shared.push(candidate);
        }
    }
    shared
}

/// Checks whether two entries are one paper: the same DOI (case-insensitive), or the same
/// normalised title when either lacks a DOI.
fn same_paper(left: &SharedPublication, right: &SharedPublication) -> bool {
    match (&left.doi, &right.doi) {
        (Some(left), Some(right)) => left.trim().eq_ignore_ascii_case(right.trim()),
        _ => normalize_name(&left.title) == normalize_name(&right.title),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn today() -> NaiveDate {
        date("2026-06-15")
    }

    fn member(name: &str) -> TeamMemberFacts {
        TeamMemberFacts {
            full_name: name.into(),
            role: "member".into(),
            ..TeamMemberFacts::default()
        }
    }

    fn reviewer(name: &str) -> ReviewerFacts {
        ReviewerFacts {
            full_name: name.into(),
            ..ReviewerFacts::default()
        }
    }

    fn paper(title: &str, year: i32, coauthors: &[&str]) -> PublicationFacts {
        PublicationFacts {
            title: title.into(),
            doi: None,
            year: Some(year),
            coauthors: coauthors
                .iter()
                .map(|name| CoauthorFacts {
                    name: (*name).into(),
                    orcid: None,
                })
                .collect(),
        }
    }

    fn types(findings: &[Finding]) -> Vec<CoiType> {
        findings.iter().map(|finding| finding.coi_type).collect()
    }

    #[test]
    fn normalize_folds_case_accents_punctuation() {
        assert_eq!(
            normalize_name("  José  O'Brien-Núñez "),
            "jose obrien nunez"
        );
        assert_eq!(normalize_name("Lee, Ana"), "lee ana");
        assert_eq!(normalize_name("J.-P. Müller"), "j p muller");
    }

    #[test]
    fn similarity_levenshtein_values() {
        assert_eq!(name_similarity("Ana Lee", "ana  LEE"), 1.0);
        assert!((name_similarity("Ana Lee", "Dana Leeds") - 0.7).abs() < 1e-9);
        assert!((name_similarity("Jon Smith", "John Smith") - 0.9).abs() < 1e-9);
        assert_eq!(name_similarity("", "Ana Lee"), 0.0);
    }

    #[test]
    fn named_by_user_orcid_email_name() {
        let user = Uuid::now_v7();
        let mut by_user = member("Someone Else");
        by_user.user_uuid = Some(user);
        let mut subject = reviewer("Ana Lee");
        subject.user_uuid = Some(user);
        let finding = named_personnel(&subject, &[by_user]).unwrap();
        assert_eq!(finding.coi_type, CoiType::RoleNamed);
        assert_eq!(finding.severity, CoiSeverity::Real);
        assert_eq!(finding.conflicting_user_uuid, Some(user));

        let mut by_orcid = member("Other");
        by_orcid.orcid = Some("https://orcid.org/0000-0002-1825-009x".into());
        let mut subject = reviewer("Ana Lee");
        subject.orcid = Some("0000-0002-1825-009X".into());
        let Evidence::Named(evidence) = named_personnel(&subject, &[by_orcid]).unwrap().evidence
        else {
            panic!("named evidence expected");
        };
        assert_eq!(evidence.match_reason, "orcid");

        let mut by_email = member("Other");
        by_email.email = "ANA@Uni.edu".into();
        let mut subject = reviewer("Ana Lee");
        subject.email = "ana@uni.edu".into();
        let Evidence::Named(evidence) = named_personnel(&subject, &[by_email]).unwrap().evidence
        else {
            panic!("named evidence expected");
        };
        assert_eq!(evidence.match_reason, "email");

        let Evidence::Named(evidence) =
            named_personnel(&reviewer("José Núñez"), &[member("Jose Nunez")])
                .unwrap()
                .evidence
        else {
            panic!("named evidence expected");
        };
        assert_eq!(evidence.match_reason, "full_name");

        let mut subject = reviewer("Ana Lee-Park");
        subject.alternative_names = vec!["A. Lee".into(), "Ana Lee".into()];
        let Evidence::Named(evidence) = named_personnel(&subject, &[member("Ana Lee")])
            .unwrap()
            .evidence
        else {
            panic!("named evidence expected");
        };
        assert_eq!(evidence.match_reason, "alternative_name");
        assert_eq!(evidence.matched_name, "Ana Lee");
    }

    #[test]
    fn named_rejects_similar_names() {
        assert!(named_personnel(&reviewer("Ana Lee"), &[member("Dana Leeds")]).is_none());
        assert!(named_personnel(&reviewer("Ana Lee"), &[member("Anna Leeson")]).is_none());
        let mut blank = reviewer("");
        blank.email = String::new();
        assert!(named_personnel(&blank, &[member("")]).is_none());
    }

    #[test]
    fn institutional_same_former_and_expired() {
        let mut team_member = member("Bo Chen");
        team_member.organization = "Université de Genève".into();
        let affiliation = |end: Option<&str>| AffiliationFacts {
            organization_name: "universite de geneve".into(),
            end_date: end.map(date),
            ..AffiliationFacts::default()
        };
        let settings = DetectionSettings::default();

        let mut subject = reviewer("Ana Lee");
        subject.affiliations = vec![affiliation(None)];
        let findings =
            institutional_conflicts(&subject, &[team_member.clone()], &settings, today());
        assert_eq!(types(&findings), vec![CoiType::InstSame]);
        assert_eq!(findings[0].severity, CoiSeverity::Real);

        subject.affiliations = vec![affiliation(Some("2025-01-01"))];
        let findings =
            institutional_conflicts(&subject, &[team_member.clone()], &settings, today());
        assert_eq!(types(&findings), vec![CoiType::InstFormer]);
        assert_eq!(findings[0].severity, CoiSeverity::Apparent);

        subject.affiliations = vec![affiliation(Some("2023-01-01"))];
        assert!(institutional_conflicts(&subject, &[team_member], &settings, today()).is_empty());
    }

    #[test]
    fn institutional_domains_ignore_public_mail() {
        let mut team_member = member("Bo Chen");
        team_member.email = "bo@cs.uni-a.edu".into();
        let mut subject = reviewer("Ana Lee");
        subject.affiliations = vec![AffiliationFacts {
            organization_name: "University A".into(),
            organization_identifier: "https://www.uni-a.edu/".into(),
            ..AffiliationFacts::default()
        }];
        let settings = DetectionSettings::default();
        let findings =
            institutional_conflicts(&subject, &[team_member.clone()], &settings, today());
        assert_eq!(types(&findings), vec![CoiType::InstSame]);

        let mut by_email = reviewer("Ana Lee");
        by_email.email = "ana@uni-a.edu".into();
        let findings = institutional_conflicts(&by_email, &[team_member], &settings, today());
        assert_eq!(types(&findings), vec![CoiType::InstSame]);

        let mut public_member = member("Bo Chen");
        public_member.email = "bo@gmail.com".into();
        let mut public_reviewer = reviewer("Ana Lee");
        public_reviewer.email = "ana@gmail.com".into();
        assert!(
            institutional_conflicts(&public_reviewer, &[public_member], &settings, today())
                .is_empty()
        );
    }

    #[test]
    fn coauthorship_recent_old_and_real() {
        let settings = DetectionSettings::default();
        let team = [member("Bo Chen")];

        let mut subject = reviewer("Ana Lee");
        subject.publications = vec![paper("Old", 2023, &["Bo Chen"])];
        let findings = coauthorship(&subject, &team, &settings, today());
        assert_eq!(types(&findings), vec![CoiType::CoauthOld]);
        assert_eq!(findings[0].severity, CoiSeverity::Apparent);

        subject.publications = vec![paper("Recent", 2025, &["B. Chen", "bo chen"])];
        let findings = coauthorship(&subject, &team, &settings, today());
        assert_eq!(types(&findings), vec![CoiType::CoauthRecent]);
        assert_eq!(findings[0].severity, CoiSeverity::Apparent);

        subject.publications = vec![
            paper("One", 2026, &["Bo Chen"]),
            paper("Two", 2025, &["Bo Chen"]),
            paper("two", 2025, &["Bo Chen"]),
            paper("Three", 2026, &["Bo Chenn"]),
        ];
        let findings = coauthorship(&subject, &team, &settings, today());
        assert_eq!(findings[0].severity, CoiSeverity::Real);
        let Evidence::Coauthorship(evidence) = &findings[0].evidence else {
            panic!("co-authorship evidence expected");
        };
        assert_eq!(evidence.paper_count, 3);
    }

    #[test]
    fn coauthorship_window_threshold_and_orcid() {
        let mut settings = DetectionSettings::default();
        let mut subject = reviewer("Ana Lee");
        subject.publications = vec![paper("Ancient", 2020, &["Bo Chen"])];
        assert!(coauthorship(&subject, &[member("Bo Chen")], &settings, today()).is_empty());

        subject.publications = vec![paper("Recent", 2026, &["Bo Chen"])];
        settings.coauthorship_threshold_papers = 2;
        assert!(coauthorship(&subject, &[member("Bo Chen")], &settings, today()).is_empty());
        settings.coauthorship_threshold_papers = 1;
        assert!(coauthorship(&subject, &[member("Dana Leeds")], &settings, today()).is_empty());

        let mut by_orcid = member("Completely Different");
        by_orcid.orcid = Some("0000-0001-0000-0001".into());
        let mut publication = paper("Orcid", 2026, &[]);
        publication.coauthors.push(CoauthorFacts {
            name: "B. C.".into(),
            orcid: Some("https://orcid.org/0000-0001-0000-0001".into()),
        });
        subject.publications = vec![publication];
        let findings = coauthorship(&subject, &[by_orcid], &settings, today());
        let Evidence::Coauthorship(evidence) = &findings[0].evidence else {
            panic!("co-authorship evidence expected");
        };
        assert_eq!(evidence.shared_publications[0].match_type, "orcid");
    }

    #[test]
    fn settings_switch_rules_off() {
        let mut team_member = member("Ana Lee");
        team_member.organization = "Uni A".into();
        let mut subject = reviewer("Ana Lee");
        subject.affiliations = vec![AffiliationFacts {
            organization_name: "Uni A".into(),
            ..AffiliationFacts::default()
        }];
        subject.publications = vec![paper("P", 2026, &["Ana Lee"])];
        let team = [team_member];

        let all = detect_conflicts(&subject, &team, &DetectionSettings::default(), today());
        assert_eq!(
            types(&all),
            vec![CoiType::RoleNamed, CoiType::InstSame, CoiType::CoauthRecent]
        );
        let none = DetectionSettings {
            named_personnel: false,
            institutional: false,
            coauthorship: false,
            ..DetectionSettings::default()
        };
        assert!(detect_conflicts(&subject, &team, &none, today()).is_empty());
    }
}
