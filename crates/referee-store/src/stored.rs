//! Enumeration columns: domain enums stored as their wire values in text columns.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use referee_domain::enums::{
    AffiliationType, AffinityMethod, AssignmentSource, BatchStatus, CallRole, CallState,
    CoiSeverity, CoiStatus, CoiType, CustomerRole, DetectionMethod, DisclosureLevel,
    InvitationStatus, ItemStatus, MatchingAlgorithm, ProficiencyLevel, ProposalState, ReviewState,
    TeamMemberRole, VenueType, WireEnum,
};

use crate::connection::MultiBackend;

/// A domain enumeration in a text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Stored<E: WireEnum>(pub E);

impl<E: WireEnum> From<E> for Stored<E> {
    fn from(value: E) -> Self {
        Self(value)
    }
}

impl<E: WireEnum + std::fmt::Debug> ToSql<Text, MultiBackend> for Stored<E> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        <str as ToSql<Text, MultiBackend>>::to_sql(self.0.wire_value(), out)
    }
}

impl<E: WireEnum> FromSql<Text, MultiBackend> for Stored<E> {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        let value = text
            .parse::<E>()
            .map_err(|error| format!("unexpected stored value: {error}"))?;
        Ok(Self(value))
    }
}

/// Lets record structs declare enum fields with `#[diesel(deserialize_as = Stored<E>)]`.
macro_rules! unwrap_stored {
    ($($name:ty),+ $(,)?) => {
        $(
            impl From<Stored<$name>> for $name {
                fn from(value: Stored<$name>) -> Self {
                    value.0
                }
            }
        )+
    };
}

unwrap_stored!(
    AffiliationType,
    AffinityMethod,
    AssignmentSource,
    BatchStatus,
    DisclosureLevel,
    ItemStatus,
    MatchingAlgorithm,
    ReviewState,
    CoiSeverity,
    CoiStatus,
    CoiType,
    DetectionMethod,
    CallRole,
    CallState,
    CustomerRole,
    InvitationStatus,
    ProficiencyLevel,
    ProposalState,
    TeamMemberRole,
    VenueType,
);

unwrap_stored!(
    referee_domain::enums::CoiJobType,
    referee_domain::enums::CoiJobState,
    referee_domain::enums::SuggestionStatus,
    referee_domain::enums::SuggestionSource,
);
