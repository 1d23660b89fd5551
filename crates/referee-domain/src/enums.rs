//! Enumerations with their wire values (what the API sends and the database stores) and
//! their display strings (what the `*_display` keys carry).

use std::fmt;

/// The value was not one of the enumeration's wire values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    pub value: String,
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "\"{}\" is not a valid choice; expected one of: {}.",
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

/// An enumeration stored and sent as a fixed set of strings.
pub trait WireEnum: Copy + std::str::FromStr<Err = UnknownVariant> + 'static {
    /// The value sent on the wire and stored in the database.
    fn wire_value(self) -> &'static str;
}

/// Declares an enumeration whose variants each have a wire value and a display string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $wire:literal => $display:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every wire value, in declaration order.
            pub const WIRE_VALUES: &'static [&'static str] = &[$($wire),+];

            /// The value sent on the wire and stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The human-readable label sent in `*_display` keys.
            pub fn display(self) -> &'static str {
                match self {
                    $(Self::$variant => $display,)+
                }
            }
        }

        // Written by hand: the derive cannot read `rename` values passed through this macro and
        // would publish the variant names instead of the wire values.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::WIRE_VALUES.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl WireEnum for $name {
            fn wire_value(self) -> &'static str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant { value: value.to_owned(), expected: Self::WIRE_VALUES }),
                }
            }
        }
    };
}

wire_enum! {
    /// Lifecycle of a call for proposals.
    CallState {
        Draft = "draft" => "Draft",
        Active = "active" => "Active",
        Archived = "archived" => "Archived",
    }
}

wire_enum! {
    /// Lifecycle of a proposal.
    ProposalState {
        Draft = "draft" => "Draft",
        Submitted = "submitted" => "Submitted",
        InReview = "in_review" => "In review",
        Accepted = "accepted" => "Accepted",
        Rejected = "rejected" => "Rejected",
        Canceled = "canceled" => "Canceled",
    }
}

wire_enum! {
    /// Role of a person named on a proposal's team.
    TeamMemberRole {
        PrincipalInvestigator = "principal_investigator" => "Principal investigator",
        CoInvestigator = "co_investigator" => "Co-investigator",
        Member = "member" => "Team member",
    }
}

wire_enum! {
    /// Status of a reviewer's invitation to a call's pool.
    InvitationStatus {
        Pending = "pending" => "Invitation pending",
        Accepted = "accepted" => "Accepted",
        Declined = "declined" => "Declined",
        Expired = "expired" => "Invitation expired",
    }
}

wire_enum! {
    /// Kind of a reviewer's affiliation with an organisation.
    AffiliationType {
        Employment = "employment" => "Employment",
        Education = "education" => "Education",
        Visiting = "visiting" => "Visiting position",
        Honorary = "honorary" => "Honorary position",
        Consulting = "consulting" => "Consulting",
    }
}

wire_enum! {
    /// How well a reviewer knows an area of expertise.
    ProficiencyLevel {
        Expert = "expert" => "Expert - Can review independently",
        Familiar = "familiar" => "Familiar - Can review with guidance",
        Basic = "basic" => "Basic - General understanding only",
    }
}

wire_enum! {
    /// Kind of venue a publication appeared in.
    VenueType {
        Journal = "journal" => "Journal",
        Conference = "conference" => "Conference",
        Preprint = "preprint" => "Preprint",
        Book = "book" => "Book",
        Thesis = "thesis" => "Thesis",
        Report = "report" => "Report",
        Other = "other" => "Other",
    }
}

wire_enum! {
    /// Role granted to a user on a call.
    CallRole {
        Manager = "CALL.MANAGER" => "Call manager",
    }
}

wire_enum! {
    /// Role granted to a user on an organisation.
    CustomerRole {
        Owner = "CUSTOMER.OWNER" => "Organisation owner",
        Manager = "CUSTOMER.MANAGER" => "Organisation manager",
        Member = "CUSTOMER.MEMBER" => "Organisation member",
    }
}

wire_enum! {
    /// Kind of a conflict of interest.
    CoiType {
        InstSame = "INST_SAME" => "Same institution",
        FinDirect = "FIN_DIRECT" => "Direct financial interest",
        RelFamily = "REL_FAMILY" => "Family relationship",
        RoleNamed = "ROLE_NAMED" => "Named on proposal",
        CollabActive = "COLLAB_ACTIVE" => "Active collaboration",
        RelMentor = "REL_MENTOR" => "Mentor/mentee relationship",
        RelSupervisor = "REL_SUPERVISOR" => "Supervisor relationship",
        CoauthRecent = "COAUTH_RECENT" => "Recent co-authorship",
        InstDept = "INST_DEPT" => "Same department",
        InstFormer = "INST_FORMER" => "Former institution",
        RoleConf = "ROLE_CONF" => "Conference organizer",
        CollabGrant = "COLLAB_GRANT" => "Grant collaboration",
        RelEditorial = "REL_EDITORIAL" => "Editorial relationship",
        Compet = "COMPET" => "Competitor",
        CoauthOld = "COAUTH_OLD" => "Distant co-authorship",
        InstConsort = "INST_CONSORT" => "Consortium membership",
        ConfAttend = "CONF_ATTEND" => "Conference participation",
        SocMember = "SOC_MEMBER" => "Professional society",
    }
}

wire_enum! {
    /// How serious a conflict of interest is.
    CoiSeverity {
        Real = "real" => "Real conflict - must recuse",
        Apparent = "apparent" => "Apparent conflict - requires management",
        Potential = "potential" => "Potential conflict - disclosure only",
    }
}

wire_enum! {
    /// How a conflict of interest was found.
    DetectionMethod {
        Automated = "automated" => "Automated detection",
        SelfDisclosed = "self_disclosed" => "Self-disclosed by reviewer",
        Reported = "reported" => "Reported by third party",
        ManagerIdentified = "manager_identified" => "Identified by call manager",
    }
}

wire_enum! {
    /// Review status of a conflict of interest. `pending` and `recused` block assignments.
    CoiStatus {
        Pending = "pending" => "Pending review",
        Dismissed = "dismissed" => "Dismissed - not a conflict",
        Waived = "waived" => "Waived with management plan",
        Recused = "recused" => "Reviewer recused",
    }
}

impl CoiType {
    /// The severity a conflict of this type has unless stated otherwise.
    pub fn default_severity(self) -> CoiSeverity {
        match self {
            Self::InstSame
            | Self::FinDirect
            | Self::RelFamily
            | Self::RoleNamed
            | Self::CollabActive
            | Self::RelMentor
            | Self::RelSupervisor => CoiSeverity::Real,
            Self::CoauthRecent
            | Self::InstDept
            | Self::InstFormer
            | Self::RoleConf
            | Self::CollabGrant
            | Self::RelEditorial
            | Self::Compet => CoiSeverity::Apparent,
            Self::CoauthOld | Self::InstConsort | Self::ConfAttend | Self::SocMember => {
                CoiSeverity::Potential
            }
        }
    }
}

impl CoiStatus {
    /// Whether a conflict in this status keeps the reviewer off the proposal.
    pub fn is_blocking(self) -> bool {
        matches!(self, Self::Pending | Self::Recused)
    }
}

wire_enum! {
    /// Status of one proposal offered to a reviewer.
    ItemStatus {
        Pending = "pending" => "Awaiting response",
        Accepted = "accepted" => "Accepted",
        Declined = "declined" => "Declined",
        CoiBlocked = "coi_blocked" => "Blocked due to COI",
        Expired = "expired" => "Expired without response",
        Reassigned = "reassigned" => "Reassigned to another reviewer",
    }
}

wire_enum! {
    /// Status of a bundle of proposals offered to one reviewer.
    BatchStatus {
        Draft = "draft" => "Draft - pending approval",
        Sent = "sent" => "Sent to reviewer",
        Responded = "responded" => "Reviewer responded",
        Expired = "expired" => "Invitation expired",
        Cancelled = "cancelled" => "Cancelled by manager",
    }
}

wire_enum! {
    /// How a batch came into being.
    AssignmentSource {
        Algorithm = "algorithm" => "Algorithm-generated",
        Manual = "manual" => "Manually assigned",
    }
}

wire_enum! {
    /// Lifecycle of a review.
    ReviewState {
        InReview = "in_review" => "In review",
        Submitted = "submitted" => "Submitted",
        Rejected = "rejected" => "Rejected",
    }
}

wire_enum! {
    /// How affinity scores combine keyword and text similarity.
    AffinityMethod {
        Keyword = "keyword" => "Keyword matching only",
        Tfidf = "tfidf" => "TF-IDF text similarity",
        Combined = "combined" => "Combined keyword + text",
    }
}

wire_enum! {
    /// Assignment algorithm of a call's matching configuration.
    MatchingAlgorithm {
        Minmax = "minmax" => "MinMax (balanced load)",
        Fairflow = "fairflow" => "FairFlow (quality threshold)",
        Hungarian = "hungarian" => "Hungarian (global optimum)",
    }
}

wire_enum! {
    /// How much of a proposal a reviewer sees before accepting it.
    DisclosureLevel {
        TitlesOnly = "titles_only" => "Titles only",
        TitlesAndSummaries = "titles_and_summaries" => "Titles and summaries",
        FullDetails = "full_details" => "Full proposal details",
    }
}

impl BatchStatus {
    /// Statuses in which the batch is shown to its reviewer.
    pub const SHOWN_TO_REVIEWER: &'static [Self] = &[Self::Sent, Self::Responded, Self::Expired];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for state in ProposalState::ALL {
            assert_eq!(state.as_str().parse::<ProposalState>(), Ok(*state));
        }
    }

    #[test]
    fn unknown_value_lists_choices() {
        let error = "nope".parse::<InvitationStatus>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"nope\" is not a valid choice; expected one of: pending, accepted, declined, expired."
        );
    }

    #[test]
    fn schema_lists_wire_values() {
        let schema = serde_json::to_value(<CallState as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["enum"],
            serde_json::json!(["draft", "active", "archived"])
        );
    }

    #[test]
    fn serde_uses_wire_values() {
        let text = serde_json::to_string(&CallRole::Manager).unwrap();
        assert_eq!(text, "\"CALL.MANAGER\"");
    }
}

wire_enum! {
    /// Scope of a conflict-of-interest detection job.
    CoiJobType {
        FullCall = "full_call" => "Full call detection",
        Incremental = "incremental" => "Incremental detection",
        SinglePair = "single_pair" => "Single pair detection",
    }
}

wire_enum! {
    /// State of a conflict-of-interest detection job.
    CoiJobState {
        Pending = "pending" => "Pending",
        Running = "running" => "Running",
        Completed = "completed" => "Completed",
        Failed = "failed" => "Failed",
        Cancelled = "cancelled" => "Cancelled",
    }
}

wire_enum! {
    /// Review status of a reviewer suggestion.
    SuggestionStatus {
        Pending = "pending" => "Awaiting manager review",
        Confirmed = "confirmed" => "Manager approved",
        Rejected = "rejected" => "Manager rejected",
        Invited = "invited" => "Invitation sent",
    }
}

wire_enum! {
    /// Source that reviewer suggestions were scored against.
    SuggestionSource {
        CallDescription = "call_description" => "Call description",
        AllProposals = "all_proposals" => "All proposals",
        SelectedProposals = "selected_proposals" => "Selected proposals",
        CustomKeywords = "custom_keywords" => "Custom keywords",
    }
}

wire_enum! {
    /// Comparison of requested keywords with a reviewer when suggesting reviewers.
    KeywordSearchMode {
        /// The share of requested keywords found among the reviewer's expertise keywords.
        ExpertiseOnly = "expertise_only" => "Expertise keywords only",
        /// The keywords joined as one text, scored like a call description.
        FullText = "full_text" => "Full profile text",
    }
}
