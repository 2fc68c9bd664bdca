//! Helpers shared by detectors (and only here, so detectors never import one another).

use super::{Target, TargetKind};
use crate::objects::pod::{ContainerRole, ContainerStatus, StateTerminated};
use crate::objects::{Pod, Timestamp};
use chrono::{DateTime, Utc};

/// How far after the round's time an event may be dated and still count as now: a round
/// takes minutes to list a big cluster, and node clocks drift a little. Later than this is
/// a wrong clock or a wrong `--now`.
pub const CLOCK_TOLERANCE: chrono::Duration = chrono::Duration::minutes(5);

/// The note for something dated after the round's time, which is not counted.
pub fn future_note(what: &str, when: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = chrono::SecondsFormat::Secs;
    format!(
        "{what} is dated {}, after the round's time {}: not counted (a wrong clock, or a wrong --now?)",
        when.to_rfc3339_opts(secs, true),
        now.to_rfc3339_opts(secs, true)
    )
}

/// True when `since` is at least `min` before `now`. An unreadable or missing time counts
/// as old enough: the condition is there, and hiding it would be the unsafe choice.
pub fn lasted(since: Option<&Timestamp>, min: chrono::Duration, now: DateTime<Utc>) -> bool {
    match since.and_then(Timestamp::time) {
        Some(t) => now - t >= min,
        None => true,
    }
}

#[cfg(test)]
pub fn pod(yaml: &str) -> crate::objects::Object {
    object(yaml)
}

#[cfg(test)]
pub fn object(yaml: &str) -> crate::objects::Object {
    let value: serde_json::Value = serde_saphyr::from_str(yaml).expect("test YAML");
    match crate::objects::decode(value).expect("decodes") {
        crate::objects::Decoded::Object(o) => o,
        other => panic!("not an object: {other:?}"),
    }
}

#[cfg(test)]
pub fn at(t: &str) -> crate::detect::DetectContext {
    crate::detect::DetectContext {
        now: DateTime::parse_from_rfc3339(t).expect("time").to_utc(),
    }
}

/// The role as reports write it.
pub fn role_name(role: ContainerRole) -> &'static str {
    match role {
        ContainerRole::App => "app",
        ContainerRole::Init => "init",
        ContainerRole::Sidecar => "sidecar",
    }
}

/// A finding about one container of a pod.
pub fn target(pod: &Pod, container: &str) -> Target {
    Target {
        kind: TargetKind::Pod,
        namespace: Some(pod.namespace().to_owned()),
        name: pod.metadata.name.clone(),
        container: Some(container.to_owned()),
    }
}

pub fn node_target(name: &str) -> Target {
    Target {
        kind: TargetKind::Node,
        namespace: None,
        name: name.to_owned(),
        container: None,
    }
}

/// A share rounded to two decimals, so reports are stable and readable.
pub fn percent(part: u64, whole: u64) -> f64 {
    (part as f64 / whole as f64 * 10000.0).round() / 100.0
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Why a container cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The kubelet could not build its configuration (env, volumes from ConfigMaps, Secrets).
    Config,
    /// The runtime could not create it.
    Create,
    /// The runtime created it but could not run its command.
    Run,
    /// The image reference does not parse.
    ImageName,
}

/// The reason and cause when a container is not running because it cannot start, with the
/// termination that shows it (if any).
pub fn cannot_start(s: &ContainerStatus) -> Option<(&str, Cause, Option<&StateTerminated>)> {
    if s.state.running.is_some() {
        return None;
    }
    let waiting = s.state.waiting.as_ref().and_then(|w| w.reason.as_deref());
    let start_error = |t: &&StateTerminated| {
        matches!(
            t.reason.as_deref(),
            Some("ContainerCannotRun" | "StartError")
        )
    };
    let termination = s.state.terminated.as_ref().filter(start_error).or(s
        .last_state
        .terminated
        .as_ref()
        .filter(start_error));
    let cause = match waiting {
        Some("CreateContainerConfigError") => Cause::Config,
        Some("CreateContainerError") => Cause::Create,
        Some("RunContainerError") => Cause::Run,
        Some("InvalidImageName") => Cause::ImageName,
        // Between back-offs, or waiting to retry a start that failed.
        _ => {
            let t = termination?;
            let reason = t.reason.as_deref().unwrap_or("StartError");
            return Some((reason, Cause::Run, Some(t)));
        }
    };
    waiting.map(|r| (r, cause, termination))
}
