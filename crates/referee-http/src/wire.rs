//! Value formats on the wire: UUIDs as 32 lowercase hex characters, instants in UTC with
//! `+00:00`, and the schema each declares in the OpenAPI document.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// A UUID sent as 32 lowercase hex characters and accepted with or without dashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexUuid(pub Uuid);

impl From<Uuid> for HexUuid {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl fmt::Display for HexUuid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0.simple())
    }
}

impl Serialize for HexUuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.simple())
    }
}

impl<'de> Deserialize<'de> for HexUuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_uuid(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom(invalid_uuid_message(&text)))
    }
}

impl PartialSchema for HexUuid {
    fn schema() -> RefOr<Schema> {
        hex_uuid_schema().into()
    }
}

impl ToSchema for HexUuid {}

/// Schema of a hex UUID string.
pub fn hex_uuid_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9a-f]{32}$"))
        .description(Some(
            "UUID as 32 lowercase hexadecimal characters; input may also use the dashed form.",
        ))
        .build()
}

/// Parses a UUID in its hex or dashed form.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    let trimmed = text.trim();
    if trimmed.len() != 32 && trimmed.len() != 36 {
        return None;
    }
    Uuid::try_parse(trimmed).ok()
}

pub fn invalid_uuid_message(text: &str) -> String {
    format!("{text:?} is not a valid UUID. Send 32 hexadecimal characters, with or without dashes.")
}

/// An instant sent in RFC 3339 form in UTC with a `+00:00` offset; microseconds appear only
/// when they are not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WireTime(pub DateTime<Utc>);

impl From<DateTime<Utc>> for WireTime {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

/// Formats an instant the way every response does.
pub fn format_time(value: DateTime<Utc>) -> String {
    let base = value.format("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = value.timestamp_subsec_micros();
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(self.0))
    }
}

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_time(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom(invalid_time_message(&text)))
    }
}

impl PartialSchema for WireTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl ToSchema for WireTime {}

/// Parses an RFC 3339 instant with an offset or `Z`.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

pub fn invalid_time_message(text: &str) -> String {
    format!(
        "{text:?} is not a valid date-time. Use RFC 3339 with an offset, for example 2026-09-14T08:03:11+00:00."
    )
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Deserializes a field that may be absent (outer `None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_hex_on_output_and_either_form_on_input() {
        let uuid = Uuid::parse_str("0b5c9f7e-2d4a-4c4e-9a3f-1e2d3c4b5a69").unwrap();
        assert_eq!(
            serde_json::to_string(&HexUuid(uuid)).unwrap(),
            "\"0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69\""
        );
        let dashed: HexUuid =
            serde_json::from_str("\"0b5c9f7e-2d4a-4c4e-9a3f-1e2d3c4b5a69\"").unwrap();
        let hex: HexUuid = serde_json::from_str("\"0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69\"").unwrap();
        assert_eq!(dashed, hex);
        assert!(serde_json::from_str::<HexUuid>("\"0b5c\"").is_err());
    }

    #[test]
    fn time_has_utc_offset_and_optional_micros() {
        let whole = parse_time("2026-09-14T08:03:11Z").unwrap();
        assert_eq!(format_time(whole), "2026-09-14T08:03:11+00:00");
        let fractional = parse_time("2026-09-14T10:03:11.482913+02:00").unwrap();
        assert_eq!(format_time(fractional), "2026-09-14T08:03:11.482913+00:00");
    }
}

/// A reference to another object in a request body: its UUID (hex or dashed) or its
/// hyperlink, such as `https://host/api/users/0b5c…69/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference(pub Uuid);

/// Extracts the UUID of a UUID or hyperlink text.
pub fn parse_reference(text: &str) -> Option<Uuid> {
    if let Some(uuid) = parse_uuid(text) {
        return Some(uuid);
    }
    let last_segment = text.trim().trim_end_matches('/').rsplit('/').next()?;
    parse_uuid(last_segment)
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_reference(&text).map(Self).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is neither a UUID nor a hyperlink ending in one. Send the object's uuid or url."
            ))
        })
    }
}

impl PartialSchema for Reference {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The object's UUID (hex or dashed) or its hyperlink."))
            .into()
    }
}

impl ToSchema for Reference {}
