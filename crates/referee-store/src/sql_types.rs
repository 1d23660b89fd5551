//! Two column types that both backends store natively or as sortable text.
//!
//! `PortableUuid` is a `uuid` column on PostgreSQL and 32 lowercase hex characters of text on
//! SQLite. `PortableTimestamptz` is a `timestamptz` column on PostgreSQL and fixed-width
//! RFC 3339 text in UTC with six decimals on SQLite (`2026-09-14T08:03:11.482913Z`), so that
//! comparing and ordering the text compares and orders the instants. Values are truncated
//! to microseconds before they are written, the resolution PostgreSQL keeps.

use std::io::Write as _;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType};
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use crate::connection::MultiBackend;

/// SQL type of a UUID column.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PortableUuid;

/// SQL type of a timestamp-with-time-zone column.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PortableTimestamptz;

/// A UUID as stored in a [`PortableUuid`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = PortableUuid)]
pub struct DbUuid(pub Uuid);

/// An instant as stored in a [`PortableTimestamptz`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = PortableTimestamptz)]
pub struct DbTime(pub DateTime<Utc>);

impl From<Uuid> for DbUuid {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl From<DbUuid> for Uuid {
    fn from(value: DbUuid) -> Self {
        value.0
    }
}

impl From<DateTime<Utc>> for DbTime {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.trunc_subsecs(6))
    }
}

impl From<DbTime> for DateTime<Utc> {
    fn from(value: DbTime) -> Self {
        value.0
    }
}

const SQLITE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Formats an instant the way SQLite columns store it.
pub fn sqlite_time_text(value: DateTime<Utc>) -> String {
    value
        .trunc_subsecs(6)
        .format(SQLITE_TIME_FORMAT)
        .to_string()
}

// PostgreSQL: delegate to Diesel's native impls.

impl ToSql<PortableUuid, Pg> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<PortableUuid, Pg> for DbUuid {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let uuid = <Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes)?;
        Ok(Self(uuid))
    }
}

impl ToSql<PortableTimestamptz, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(
            &self.0,
            &mut out.reborrow(),
        )
    }
}

impl FromSql<PortableTimestamptz, Pg> for DbTime {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let time = <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(bytes)?;
        Ok(Self(time))
    }
}

// SQLite: text.

impl ToSql<PortableUuid, Sqlite> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.simple().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<PortableUuid, Sqlite> for DbUuid {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        let uuid = Uuid::try_parse(&text)
            .map_err(|error| format!("invalid UUID {text:?} in a SQLite column: {error}"))?;
        Ok(Self(uuid))
    }
}

impl ToSql<PortableTimestamptz, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(sqlite_time_text(self.0));
        Ok(IsNull::No)
    }
}

impl FromSql<PortableTimestamptz, Sqlite> for DbTime {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        let time = DateTime::parse_from_rfc3339(&text)
            .map_err(|error| format!("invalid timestamp {text:?} in a SQLite column: {error}"))?;
        Ok(Self(time.with_timezone(&Utc)))
    }
}

// The multi-connection backend dispatches to the two impls above.

impl HasSqlType<PortableUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<PortableUuid>(lookup)
    }
}

impl HasSqlType<PortableTimestamptz> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<PortableTimestamptz>(lookup)
    }
}

impl FromSql<PortableUuid, MultiBackend> for DbUuid {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, PortableUuid>()
    }
}

impl ToSql<PortableUuid, MultiBackend> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((PortableUuid, self));
        Ok(IsNull::No)
    }
}

impl FromSql<PortableTimestamptz, MultiBackend> for DbTime {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, PortableTimestamptz>()
    }
}

impl ToSql<PortableTimestamptz, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((PortableTimestamptz, self));
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_time_text_is_fixed_width() {
        let time = DateTime::parse_from_rfc3339("2026-09-14T08:03:11Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(sqlite_time_text(time), "2026-09-14T08:03:11.000000Z");
    }

    #[test]
    fn db_time_truncates_to_microseconds() {
        let time = DateTime::parse_from_rfc3339("2026-09-14T08:03:11.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(DbTime::from(time).0.timestamp_subsec_nanos(), 123_456_000);
    }
}

/// A nullable UUID column read into `Option<Uuid>` (record fields use
/// `#[diesel(deserialize_as = MaybeUuid)]`).
#[derive(Debug, Clone, Copy)]
pub struct MaybeUuid(pub Option<Uuid>);

impl diesel::Queryable<diesel::sql_types::Nullable<PortableUuid>, MultiBackend> for MaybeUuid {
    type Row = Option<DbUuid>;

    fn build(row: Self::Row) -> deserialize::Result<Self> {
        Ok(Self(row.map(|uuid| uuid.0)))
    }
}

impl From<MaybeUuid> for Option<Uuid> {
    fn from(value: MaybeUuid) -> Self {
        value.0
    }
}

/// A nullable timestamp column read into `Option<DateTime<Utc>>`.
#[derive(Debug, Clone, Copy)]
pub struct MaybeTime(pub Option<DateTime<Utc>>);

impl diesel::Queryable<diesel::sql_types::Nullable<PortableTimestamptz>, MultiBackend>
    for MaybeTime
{
    type Row = Option<DbTime>;

    fn build(row: Self::Row) -> deserialize::Result<Self> {
        Ok(Self(row.map(|time| time.0)))
    }
}

impl From<MaybeTime> for Option<DateTime<Utc>> {
    fn from(value: MaybeTime) -> Self {
        value.0
    }
}
