//! Argument types that are easy to get wrong in YAML, each parsed once into a checked value.
//!
//! Every type here is read by serde (for the typed playbook) and by the schema check (for
//! reporting every error at once) through the same `parse` function, so both always agree.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Implements `Deserialize` (from the text, or a number where allowed), `Serialize` (as the text)
/// and `JsonSchema` (with a `format` the schema check resolves through [`check_format`]).
macro_rules! text_value {
    ($ty:ident, $format:literal, $types:expr, $desc:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = scalar_text(serde_json::Value::deserialize(d)?)
                    .map_err(serde::de::Error::custom)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": $types, "format": $format, "description": $desc })
            }
        }
    };
}

fn scalar_text(v: serde_json::Value) -> Result<String, String> {
    match v {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected text, found {other}")),
    }
}

/// What to write for one of our formats, for "expected ..., found ..." messages.
pub fn format_expected(format: &str) -> Option<&'static str> {
    Some(match format {
        "duration" => "a duration such as 30m, 6h or 7d",
        "quantity" => "a quantity such as 512Mi or 4Gi",
        "percent" => "a percentage such as 85%",
        "int-or-percent" => "a count or a percentage such as 1 or 25%",
        "glob" => "a glob such as shop-*",
        "label-selector" => "a label selector such as app=web,tier!=db",
        "cron" => "a five-field cron schedule such as */30 * * * *",
        "time-zone" => "an IANA time zone such as Europe/Berlin",
        "dns-label" => "a name of lower-case letters, digits and '-'",
        "rfc3339" => "an RFC 3339 time such as 2026-01-01T00:00:00Z",
        _ => return None,
    })
}

/// A valid value that is probably not what was meant.
pub fn format_warning(format: &str, text: &str) -> Option<String> {
    match format {
        "percent" => {
            let t = text.trim();
            let n: f64 = t.parse().ok()?;
            let percent = (n * 100.0 * 1e6).round() / 1e6;
            (n > 0.0 && n < 1.0).then(|| {
                format!(
                    "{t} means {t} %, which looks like a fraction: write {percent}% for {percent} percent, or {t}% to keep it"
                )
            })
        }
        "cron" => {
            let schedule: CronSchedule = text.parse().ok()?;
            schedule.never_fires().then(|| {
                format!(
                    "the schedule {} never fires: no date matches it",
                    crate::wording::quote(text)
                )
            })
        }
        _ => None,
    }
}

/// Checks a value against a custom `format` of the schema. Unknown formats pass (they are
/// documentation only).
pub fn check_format(format: &str, text: &str) -> Result<(), String> {
    match format {
        "duration" => text.parse::<Duration>().map(drop),
        "quantity" => text.parse::<Quantity>().map(drop),
        "percent" => text.parse::<Percent>().map(drop),
        "int-or-percent" => text.parse::<IntOrPercent>().map(drop),
        "glob" => text.parse::<Glob>().map(drop),
        "label-selector" => text.parse::<LabelSelector>().map(drop),
        "cron" => text.parse::<CronSchedule>().map(drop),
        "time-zone" => text.parse::<TimeZoneName>().map(drop),
        "dns-label" => check_dns_label(text),
        "rfc3339" => chrono::DateTime::parse_from_rfc3339(text)
            .map(drop)
            .map_err(|e| {
                format!(
                    "invalid RFC 3339 time {}: {}",
                    crate::wording::quote(text),
                    crate::wording::library_message(&e.to_string())
                )
            }),
        _ => Ok(()),
    }
}

/// A length of time such as `30m`, `6h`, `1h30m` or `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub std::time::Duration);

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let d = humantime::parse_duration(s.trim()).map_err(|e| {
            format!(
                "invalid duration {} ({}); write it like 90s, 30m, 6h or 7d",
                crate::wording::quote(s),
                crate::wording::library_message(&e.to_string())
            )
        })?;
        if d.is_zero() {
            return Err(format!(
                "duration {} must be longer than zero",
                crate::wording::quote(s)
            ));
        }
        Ok(Self(d))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Duration {
    pub fn from_secs(s: u64) -> Self {
        Self(std::time::Duration::from_secs(s))
    }

    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }
}

text_value!(
    Duration,
    "duration",
    "string",
    "A length of time: 90s, 30m, 6h, 1h30m, 7d."
);

/// A Kubernetes resource quantity (`512Mi`, `4Gi`, `1.5G`, `100m`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Quantity(f64);

impl Quantity {
    pub fn value(self) -> f64 {
        self.0
    }

    pub fn from_value(v: f64) -> Self {
        Self(v)
    }

    /// The value in bytes, written as kubectl users write memory: whole MiB, or GiB when exact.
    pub fn to_binary_text(self) -> String {
        const MI: f64 = 1024.0 * 1024.0;
        let mib = (self.0 / MI).ceil() as u64;
        if mib > 0 && mib.is_multiple_of(1024) {
            format!("{}Gi", mib / 1024)
        } else {
            format!("{mib}Mi")
        }
    }
}

impl FromStr for Quantity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_quantity(s.trim()).ok_or_else(|| {
            format!(
                "invalid quantity {}; write it like 512Mi, 4Gi, 1.5G or 250m",
                crate::wording::quote(s)
            )
        })
    }
}

fn parse_quantity(s: &str) -> Option<Quantity> {
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    if number.is_empty()
        || !number.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+' || c == '-')
    {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(Quantity(n * multiplier))
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

text_value!(
    Quantity,
    "quantity",
    ["string", "integer"],
    "A Kubernetes quantity: 512Mi, 4Gi, 1.5G."
);

/// A share between 0% and 100%, written `85%` (or a bare number).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    pub fn value(self) -> f64 {
        self.0
    }
}

impl FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let n: f64 = t
            .strip_suffix('%')
            .unwrap_or(t)
            .trim()
            .parse()
            .map_err(|_| {
                format!(
                    "invalid percentage {}; write it like 85%",
                    crate::wording::quote(s)
                )
            })?;
        if !(0.0..=100.0).contains(&n) {
            return Err(format!(
                "percentage {} is out of range 0% to 100%",
                crate::wording::quote(s)
            ));
        }
        Ok(Self(n))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

text_value!(
    Percent,
    "percent",
    ["string", "number"],
    "A percentage from 0% to 100%, like 85%."
);

/// A count or a share, as Kubernetes' `maxUnavailable`: `1` or `25%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntOrPercent {
    Count(u32),
    Percent(Percent),
}

impl FromStr for IntOrPercent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().ends_with('%') {
            return s.parse().map(Self::Percent);
        }
        s.trim().parse().map(Self::Count).map_err(|_| {
            format!(
                "invalid value {}; write a whole number like 1 or a percentage like 25%",
                crate::wording::quote(s)
            )
        })
    }
}

impl fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}"),
        }
    }
}

text_value!(
    IntOrPercent,
    "int-or-percent",
    ["string", "integer"],
    "A count (1) or a percentage (25%)."
);

/// A shell-style glob over names (`shop-*`, `team-?`, `[ab]*`).
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    matcher: globset::GlobMatcher,
}

impl Glob {
    pub fn matches(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}

impl FromStr for Glob {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("a glob must not be empty".into());
        }
        let glob = globset::GlobBuilder::new(s)
            .literal_separator(false)
            .build()
            .map_err(|e| format!("invalid glob {}: {}", crate::wording::quote(s), e.kind()))?;
        Ok(Self {
            text: s.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

text_value!(
    Glob,
    "glob",
    "string",
    "A glob over names: shop-*, team-?, [ab]*."
);

/// A Kubernetes label selector in its string form: `app=web,tier!=db,env in (a,b),!legacy`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector {
    text: String,
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    pub fn matches(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

impl FromStr for LabelSelector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_outside_parens(s) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "invalid label selector {}: empty requirement",
                    crate::wording::quote(s)
                ));
            }
            requirements.push(parse_requirement(part).map_err(|e| {
                format!("invalid label selector {}: {e}", crate::wording::quote(s))
            })?);
        }
        Ok(Self {
            text: s.to_owned(),
            requirements,
        })
    }
}

fn split_outside_parens(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return check_label_key(key.trim()).map(|k| Requirement::DoesNotExist(k.to_owned()));
    }
    for (op, make) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((k, v)) = part.split_once(op) {
            let key = check_label_key(k.trim())?;
            let value = check_label_value(v.trim())?;
            return Ok(make(key.to_owned(), value.to_owned()));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words.as_slice() {
        let rest = rest.trim();
        let (negated, list) = if let Some(l) = rest.strip_prefix("notin") {
            (true, l)
        } else if let Some(l) = rest.strip_prefix("in") {
            (false, l)
        } else {
            return Err(format!(
                "unknown operator in {}; use =, ==, !=, in, notin",
                crate::wording::quote(part)
            ));
        };
        let list = list
            .trim()
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| {
                format!(
                    "{} needs a value list in parentheses",
                    crate::wording::quote(part)
                )
            })?;
        let values = list
            .split(',')
            .map(|v| check_label_value(v.trim()).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        let key = check_label_key(key)?.to_owned();
        return Ok(if negated {
            Requirement::NotIn(key, values)
        } else {
            Requirement::In(key, values)
        });
    }
    check_label_key(part).map(|k| Requirement::Exists(k.to_owned()))
}

fn check_label_key(key: &str) -> Result<&str, String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty() || p.len() > 253 || !p.split('.').all(is_dns_label))
    {
        return Err(format!(
            "label key {} has an invalid prefix",
            crate::wording::quote(key)
        ));
    }
    if !is_label_name(name) {
        return Err(format!(
            "invalid label key {}: names are up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            crate::wording::quote(key)
        ));
    }
    Ok(key)
}

fn check_label_value(value: &str) -> Result<&str, String> {
    if value.is_empty() || is_label_name(value) {
        Ok(value)
    } else {
        Err(format!(
            "invalid label value {}",
            crate::wording::quote(value)
        ))
    }
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_dns_label(s: &str) -> Result<(), String> {
    if is_dns_label(s) {
        Ok(())
    } else {
        Err(format!(
            "invalid name {}: use up to 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
            crate::wording::quote(s)
        ))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

text_value!(
    LabelSelector,
    "label-selector",
    "string",
    "A label selector: app=web,tier!=db,env in (prod,staging),!legacy."
);

/// A five-field cron expression with Kubernetes CronJob semantics (`*/30 * * * *`, `@hourly`).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    cron: croner::Cron,
}

impl CronSchedule {
    /// Whether the schedule fires in the minute that contains `t`.
    pub fn fires_in_minute_of(&self, t: chrono::DateTime<chrono::Utc>) -> bool {
        use chrono::Timelike;
        let minute = t
            .with_second(0)
            .and_then(|m| m.with_nanosecond(0))
            .unwrap_or(t);
        self.cron.is_time_matching(&minute).unwrap_or(false)
    }

    /// True when the schedule can never fire (`0 0 31 2 *`: February has no 31st). A schedule
    /// that fires at all fires within eight years (February 29th in a century year is the
    /// longest wait), so the search looks ten years ahead from a fixed date.
    pub fn never_fires(&self) -> bool {
        let start = chrono::DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        match self.cron.find_next_occurrence(&start, true) {
            Ok(next) => next - start > chrono::Duration::days(3660),
            Err(_) => true,
        }
    }

    /// The latest firing at or before `t`.
    pub fn previous_at_or_before(
        &self,
        t: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.cron.find_previous_occurrence(&t, true).ok()
    }

    /// The latest firing at or before `t`, with the schedule read in the time zone `tz` (as a
    /// CronJob's `timeZone`).
    pub fn previous_in(
        &self,
        t: chrono::DateTime<chrono::Utc>,
        tz: &TimeZoneName,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let local = t.with_timezone(&tz.0);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|p| p.with_timezone(&chrono::Utc))
    }
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`), as a CronJob's `timeZone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneName(pub chrono_tz::Tz);

impl FromStr for TimeZoneName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            format!("unknown time zone {s:?}; use an IANA name like Europe/Berlin or UTC")
        })
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

text_value!(
    TimeZoneName,
    "time-zone",
    "string",
    "An IANA time zone: Europe/Berlin, America/New_York, UTC."
);

impl FromStr for CronSchedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .year(croner::parser::Year::Disallowed)
            .build();
        let cron = parser.parse(s).map_err(|e| {
            format!(
                "invalid cron schedule {}: {}",
                crate::wording::quote(s),
                crate::wording::library_message(&e.to_string())
            )
        })?;
        Ok(Self {
            text: s.to_owned(),
            cron,
        })
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

text_value!(
    CronSchedule,
    "cron",
    "string",
    "A five-field cron schedule as in a Kubernetes CronJob: */30 * * * *, 0 9-16 * * 1-5, @hourly."
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn durations() {
        assert_eq!("6h".parse::<Duration>().map(|d| d.0.as_secs()), Ok(21600));
        assert_eq!("1h30m".parse::<Duration>().map(|d| d.0.as_secs()), Ok(5400));
        assert!("6 hours please".parse::<Duration>().is_err());
        assert!("0s".parse::<Duration>().is_err());
    }

    #[test]
    fn quantities() {
        let q = |s: &str| s.parse::<Quantity>().map(Quantity::value);
        assert_eq!(q("512Mi"), Ok(512.0 * 1024.0 * 1024.0));
        assert_eq!(q("1.5G"), Ok(1.5e9));
        assert_eq!(q("250m"), Ok(0.25));
        assert_eq!(q("1e3"), Ok(1000.0));
        assert!(q("4GB").is_err());
        assert!(q("lots").is_err());
        assert_eq!(
            Quantity::from_value(384.0 * 1024.0 * 1024.0).to_binary_text(),
            "384Mi"
        );
        assert_eq!(
            Quantity::from_value(4.0 * 1024f64.powi(3)).to_binary_text(),
            "4Gi"
        );
    }

    #[test]
    fn percentages() {
        assert_eq!("85%".parse::<Percent>().map(Percent::value), Ok(85.0));
        assert!("150%".parse::<Percent>().is_err());
        assert_eq!(
            "25%".parse::<IntOrPercent>().map(|p| p.to_string()),
            Ok("25%".into())
        );
        assert_eq!("2".parse::<IntOrPercent>(), Ok(IntOrPercent::Count(2)));
    }

    #[test]
    fn label_selectors_parse_and_match() {
        let sel: LabelSelector = "app=web,tier!=db,env in (prod, staging),!legacy,team"
            .parse()
            .expect("valid");
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(sel.matches(&labels(&[("app", "web"), ("env", "prod"), ("team", "a")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "dev"), ("team", "a")])));
        assert!(!sel.matches(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("team", "a"),
            ("legacy", "")
        ])));
        for bad in ["app=a=b", "app in prod", "=web", "a b c", "app=we b"] {
            assert!(bad.parse::<LabelSelector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cron_follows_kubernetes_semantics() {
        let c: CronSchedule = "0 0 13 * 5".parse().expect("valid");
        // Day-of-month OR day-of-week: Friday 2026-11-20 matches although it is not the 13th.
        let friday = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:30Z")
            .expect("time")
            .to_utc();
        assert!(c.fires_in_minute_of(friday));
        assert!(
            "*/30 * * * * *".parse::<CronSchedule>().is_err(),
            "no seconds field"
        );
        assert!("@hourly".parse::<CronSchedule>().is_ok());
        assert!("61 * * * *".parse::<CronSchedule>().is_err());
    }

    #[test]
    fn schedules_that_never_fire_are_known() {
        let never = |s: &str| s.parse::<CronSchedule>().expect(s).never_fires();
        assert!(never("0 0 31 2 *"));
        assert!(never("0 0 30 2 *"));
        assert!(!never("0 0 29 2 *"), "leap days come");
        assert!(
            !never("0 0 31 2 1"),
            "day of month OR day of week: Mondays in February"
        );
        assert!(!never("*/30 * * * *"));
        assert!(!never("@yearly"));
    }

    #[test]
    fn globs() {
        let g: Glob = "shop-*".parse().expect("valid");
        assert!(g.matches("shop-eu") && !g.matches("kube-system"));
        assert!("shop-[".parse::<Glob>().is_err());
    }
}
