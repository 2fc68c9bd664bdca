//! Timestamps as kubectl prints them, read leniently.
//!
//! Real dumps are not always RFC 3339: YAML plain timestamps, a space instead of `T`, and edited
//! fixtures with the `T` missing altogether. A timestamp that cannot be read must not make the whole
//! object unreadable, so the raw text is kept and the parsed time is optional.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    raw: String,
    parsed: Option<DateTime<Utc>>,
}

impl Timestamp {
    pub fn parse(raw: &str) -> Self {
        Self {
            raw: raw.to_owned(),
            parsed: parse_lenient(raw),
        }
    }

    pub fn from_time(t: DateTime<Utc>) -> Self {
        Self {
            raw: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            parsed: Some(t),
        }
    }

    /// The instant, when the text could be read as one.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.parsed
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

fn parse_lenient(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // YAML 1.1 timestamps allow a space separator and a space before the zone.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %:z") {
        return Some(t.with_timezone(&Utc));
    }
    let naive_formats = [
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        // Seen in edited fixtures: the date and time glued together without `T`.
        "%Y-%m-%d%H:%M:%S%.fZ",
    ];
    naive_formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Self::parse(&raw))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.parsed {
            Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            None => s.serialize_str(&self.raw),
        }
    }
}

/// Writes a timestamp as it was read (its raw text), so that reading it back gives the same
/// value; the report's own serialization normalizes instead.
pub fn serialize_raw<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(t.raw()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_kubectl_and_real_dumps_use() {
        for raw in [
            "2018-12-02T09:19:36Z",
            "2018-12-02 09:19:36 +00:00",
            "2018-12-02T09:19:36.000000Z",
            "2018-12-0209:19:36Z",
        ] {
            let t = Timestamp::parse(raw).time().expect(raw);
            assert_eq!(t.to_rfc3339(), "2018-12-02T09:19:36+00:00", "{raw}");
        }
    }

    #[test]
    fn keeps_unreadable_text_without_failing() {
        let t = Timestamp::parse("@now-5m");
        assert_eq!(t.time(), None);
        assert_eq!(t.raw(), "@now-5m");
    }
}
