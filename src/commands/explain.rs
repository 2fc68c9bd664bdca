//! `rounds explain [NAME]`: what a detector, action, guard or channel does, its arguments or
//! settings (from the same JSON Schema `rounds schema` prints, so doc comments and ranges are
//! the types' own) and a complete example playbook or runner config.

use super::{CommandError, Exit};
use crate::catalog::{self, Entry, Kind, Setting};
use serde_json::Value;
use std::fmt::Write as _;

pub fn explain(name: Option<&str>) -> Result<Exit, CommandError> {
    let Some(name) = name else {
        print!("{}", list());
        return Ok(Exit::Done);
    };
    match catalog::find(name) {
        Some(entry) => {
            print!("{}", render(&entry));
            Ok(Exit::Done)
        }
        None => {
            let known: Vec<&str> = catalog::all().map(|e| e.name).collect();
            Err(CommandError::Invalid(format!(
                "nothing is called `{name}`; known: {}",
                known.join(", ")
            )))
        }
    }
}

fn list() -> String {
    let mut out = String::new();
    for (kind, title) in [
        (Kind::Detector, "Detectors (spec.detect)"),
        (Kind::Action, "Actions (spec.remediate)"),
        (
            Kind::Guard,
            "Guards (every write passes them in this order, then the API server's answers)",
        ),
        (
            Kind::Channel,
            "Notification channels (runner config notifications.channels.NAME)",
        ),
    ] {
        let _ = writeln!(out, "{title}:");
        for e in catalog::all().filter(|e| e.kind == kind) {
            let _ = writeln!(out, "  {:<20} {}", e.name, headline(e.text));
        }
        out.push('\n');
    }
    out.push_str("rounds explain NAME tells more.\n");
    out
}

/// The first sentence of a text, on one line, cut at a word to fit a terminal.
fn headline(text: &str) -> String {
    const WIDTH: usize = 76;
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = joined
        .split_once(". ")
        .map_or(joined.as_str(), |(s, _)| s)
        .trim_end_matches('.');
    if sentence.chars().count() <= WIDTH {
        return sentence.to_owned();
    }
    let cut: String = sentence.chars().take(WIDTH).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{}…", cut.trim_end_matches([',', ':', ';']))
}

/// One argument as the schema describes it.
#[derive(Debug, PartialEq)]
pub struct Argument {
    pub name: String,
    pub required: bool,
    /// `duration`, `integer 1..1000`, `kubelet | prometheus`...
    pub kind: String,
    pub description: String,
}

pub fn render(e: &Entry) -> String {
    let mut out = format!("{} ({})\n\n{}\n", e.name, e.kind.as_str(), e.text);
    let args = arguments(e);
    if let (Some(field), false) = (e.kind.field(), args.is_empty()) {
        let _ = writeln!(out, "\nArguments ({field}.{}):", e.name);
        list_arguments(&mut out, &args);
    }
    let settings = settings(e);
    if !settings.is_empty() {
        let _ = writeln!(out, "\nSettings:");
        list_arguments(&mut out, &settings);
    }
    let _ = writeln!(out, "\nExample:\n");
    for line in e.document().lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

fn list_arguments(out: &mut String, args: &[Argument]) {
    let width = args.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for a in args {
        let _ = writeln!(
            out,
            "  {:<width$}  {}{}{}",
            a.name,
            a.kind,
            if a.required { ", required" } else { "" },
            if a.description.is_empty() {
                String::new()
            } else {
                format!(": {}", a.description.replace('\n', " "))
            }
        );
    }
}

/// A guard's settings as arguments named `path (document)`, read from each document's schema;
/// a setting the schema does not have is an error of the catalog, and a test finds it.
pub fn settings(e: &Entry) -> Vec<Argument> {
    e.settings
        .iter()
        .map(|s| {
            let schema = s.document.schema();
            let (kind, description) = match setting_schema(&schema, s) {
                Some(p) => (
                    match p.get("default").and_then(scalar) {
                        Some(d) => format!("{}, default {d}", describe(&schema, p)),
                        None => describe(&schema, p),
                    },
                    p.get("description")
                        .or(resolve(&schema, p).get("description"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                ),
                None => ("unknown".into(), String::new()),
            };
            Argument {
                name: format!("{} ({})", s.path, s.document.as_str()),
                required: false,
                kind,
                description,
            }
        })
        .collect()
}

/// A number's format (uint32, double) says less than the type and range printed instead.
fn numeric(format: &str) -> bool {
    matches!(
        format.trim_start_matches('u'),
        "int" | "int8" | "int16" | "int32" | "int64" | "int128" | "float" | "double"
    )
}

/// A default as written in YAML; none for `null` and lists (their description says them).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// The schema of a setting's field: its dotted path walked through the properties (and the
/// `T | null` of optional sections).
pub fn setting_schema<'a>(root: &'a Value, setting: &Setting) -> Option<&'a Value> {
    let mut at = root;
    for key in setting.path.split('.') {
        at = object_with(root, at, key)?.get("properties")?.get(key)?;
    }
    Some(at)
}

/// The object schema of `s` (itself, or one of its alternatives) that has property `key`.
fn object_with<'a>(root: &'a Value, s: &'a Value, key: &str) -> Option<&'a Value> {
    let s = resolve(root, s);
    if s.get("properties").and_then(|p| p.get(key)).is_some() {
        return Some(s);
    }
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| s.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|alt| object_with(root, alt, key))
}

/// The arguments of an entry, read from the playbook's JSON Schema.
pub fn arguments(e: &Entry) -> Vec<Argument> {
    let Some(kind) = e.kind.schema_kind() else {
        return Vec::new();
    };
    let schema = e.schema();
    let Some(args) = variant(&schema, kind, e.name) else {
        return Vec::new();
    };
    let args = resolve(&schema, args);
    let required: Vec<&str> = args
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = args.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| Argument {
            name: name.clone(),
            required: required.contains(&name.as_str()),
            kind: describe(&schema, p),
            description: resolve(&schema, p)
                .get("description")
                .or(p.get("description"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        })
        .collect()
}

/// The argument schema of variant `name` of the enum marked `x-rounds-kind: kind`.
fn variant<'a>(schema: &'a Value, kind: &str, name: &str) -> Option<&'a Value> {
    let defs = schema.get("$defs")?.as_object()?;
    defs.values()
        .filter(|d| d.get("x-rounds-kind").and_then(Value::as_str) == Some(kind))
        .filter_map(|d| d.get("oneOf").and_then(Value::as_array))
        .flatten()
        .find_map(|alt| alt.get("properties")?.get(name))
}

fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(t) => s = t,
            None => break,
        }
    }
    s
}

/// A short type description: the format, the allowed values, or the type with its range.
fn describe(root: &Value, p: &Value) -> String {
    let s = resolve(root, p);
    if let Some(alts) = s.get("anyOf").or(s.get("oneOf")).and_then(Value::as_array) {
        // Option<T> is T or null; an enum lists its values.
        let parts: Vec<String> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .map(|a| describe(root, a))
            .collect();
        return parts.join(" | ");
    }
    if let Some(c) = s.get("const").and_then(Value::as_str) {
        return c.to_owned();
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(f) = s.get("format").and_then(Value::as_str)
        && !numeric(f)
    {
        return f.to_owned();
    }
    if let Some(items) = s.get("items") {
        let item = resolve(root, items);
        return match item.get("properties").and_then(Value::as_object) {
            Some(props) => format!(
                "list of {{{}}}",
                props
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("list of {}", describe(root, items)),
        };
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "value".into(),
    };
    let number = |k: &str| s.get(k).and_then(Value::as_f64);
    match (number("minimum"), number("maximum")) {
        (Some(a), Some(b)) => format!("{ty} {a}..{b}"),
        (Some(a), None) => format!("{ty} >= {a}"),
        (None, Some(b)) => format!("{ty} <= {b}"),
        (None, None) => ty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_come_from_the_schema() {
        let oom = catalog::find("oomKilled").expect("oomKilled");
        let args = arguments(&oom);
        assert_eq!(
            args.iter()
                .map(|a| (a.name.as_str(), a.kind.as_str()))
                .collect::<Vec<_>>(),
            [("minCount", "integer 1..1000"), ("within", "duration")]
        );
        assert!(args[1].description.starts_with("Only kills that ended"));
        let expand = arguments(&catalog::find("expandPvc").expect("expandPvc"));
        assert!(expand.iter().any(|a| a.name == "max" && a.required));
        let pvc = arguments(&catalog::find("pvcUsage").expect("pvcUsage"));
        assert!(
            pvc.iter()
                .any(|a| a.name == "source" && a.kind == "kubelet | prometheus"),
            "{pvc:?}"
        );
    }

    #[test]
    fn guard_settings_come_from_both_schemas() {
        let of = |name: &str| -> Vec<(String, String)> {
            settings(&catalog::find(name).expect(name))
                .into_iter()
                .map(|a| (a.name, a.kind))
                .collect()
        };
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        // Through the optional `lock` section, and a list of objects.
        assert_eq!(of("lock"), [pair("lock.file (runner config)", "string")]);
        assert_eq!(
            of("window"),
            [pair(
                "spec.guards.windows (playbook)",
                "list of {duration, schedule, timeZone}"
            )]
        );
        assert_eq!(
            of("blastRadius"),
            [
                pair("spec.guards.maxUnavailable (playbook)", "int-or-percent"),
                pair(
                    "guards.maxUnavailableNodes (runner config)",
                    "int-or-percent, default 10%"
                )
            ]
        );
        assert!(of("safeToEvict").is_empty());
        let rendered = render(&catalog::find("mode").expect("mode"));
        assert!(
            rendered.contains(
                "\nSettings:\n  mode (runner config)  plan | dryRun | apply, default dryRun: "
            ),
            "{rendered}"
        );
        assert!(!rendered.contains("Arguments"), "{rendered}");
    }
}
