//! `rounds explain [NAME]`: what a detector or an action does, its arguments (from the same JSON
//! Schema `rounds schema` prints, so doc comments and ranges are the types' own) and a complete
//! example playbook.

use super::{CommandError, Exit};
use crate::catalog::{self, Entry, Kind};
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
    if !args.is_empty() {
        let _ = writeln!(out, "\nArguments ({}.{}):", e.kind.field(), e.name);
        let width = args.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for a in &args {
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
    let _ = writeln!(out, "\nExample:\n");
    for line in e.document().lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// The arguments of an entry, read from the playbook's JSON Schema.
pub fn arguments(e: &Entry) -> Vec<Argument> {
    let schema = e.schema();
    let Some(args) = variant(&schema, e.kind.schema_kind(), e.name) else {
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
        && !f.starts_with("int")
        && !f.starts_with("uint")
        && f != "double"
    {
        return f.to_owned();
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
}
