//! Checks a YAML tree against the JSON Schema generated from the playbook types and reports
//! every problem, each with its path, instead of stopping at the first like serde does.
//!
//! It understands the subset of JSON Schema that schemars produces for our types: `$ref`,
//! `type`, `properties`/`required`/`additionalProperties`, `items`, `enum`/`const`,
//! `oneOf`/`anyOf` (externally tagged enums and `Option`), numeric bounds and our own `format`s
//! (durations, quantities, globs, selectors, cron...). General-purpose validators report a
//! mistyped enum tag as "not valid under any of the schemas"; this one names the unknown
//! detector or action and suggests the closest one.

use super::tree::{Node, NodeValue, PathSeg};
use super::values::{check_format, format_warning};
use serde_json::{Map, Value};

pub struct Problem {
    pub path: Vec<PathSeg>,
    /// Report at the key rather than at the value (unknown fields).
    pub at_key: bool,
    pub message: String,
    /// Valid, but probably not what was meant.
    pub warning: bool,
}

pub fn check(root: &Value, node: &Node) -> Vec<Problem> {
    let mut checker = Checker {
        root,
        problems: Vec::new(),
    };
    checker.node(root, node, &mut Vec::new());
    checker.problems
}

struct Checker<'a> {
    root: &'a Value,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, path: &[PathSeg], message: String) {
        self.problems.push(Problem {
            path: path.to_vec(),
            at_key: false,
            message,
            warning: false,
        });
    }

    fn warn(&mut self, path: &[PathSeg], message: String) {
        self.problems.push(Problem {
            path: path.to_vec(),
            at_key: false,
            message,
            warning: true,
        });
    }

    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = r
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer));
            match target {
                Some(t) => schema = t,
                None => break,
            }
        }
        schema
    }

    fn node(&mut self, schema: &'a Value, node: &Node, path: &mut Vec<PathSeg>) {
        let schema = self.resolve(schema);
        let Some(obj) = schema.as_object() else {
            return; // `true` accepts anything
        };
        if let Some(alts) = obj
            .get("oneOf")
            .or(obj.get("anyOf"))
            .and_then(Value::as_array)
        {
            let what = obj
                .get("x-rounds-kind")
                .and_then(Value::as_str)
                .unwrap_or("variant");
            self.alternatives(alts, what, node, path);
            return;
        }
        if let Some(types) = obj.get("type")
            && !type_matches(types, &node.value)
        {
            self.report(path, wrong_type(obj, types, &node.value));
            return;
        }
        if let NodeValue::Float(f) = node.value
            && !f.is_finite()
        {
            self.report(
                path,
                format!("expected a finite number, found {}", node.value.describe()),
            );
            return;
        }
        if let Some(allowed) = obj.get("enum").and_then(Value::as_array)
            && !allowed.contains(&node.to_json())
        {
            self.report(path, unknown_value(&node.value, allowed));
            return;
        }
        if let Some(c) = obj.get("const")
            && c != &node.to_json()
        {
            self.report(path, unknown_value(&node.value, std::slice::from_ref(c)));
            return;
        }
        self.bounds(obj, node, path);
        if let Some(format) = obj.get("format").and_then(Value::as_str) {
            let text = match &node.value {
                NodeValue::Str(s) => Some(s.clone()),
                NodeValue::Int(i) => Some(i.to_string()),
                NodeValue::Float(f) => Some(f.to_string()),
                _ => None,
            };
            if let Some(text) = text {
                match check_format(format, &text) {
                    Err(message) => self.report(path, message),
                    Ok(()) => {
                        if let Some(message) = format_warning(format, &text) {
                            self.warn(path, message);
                        }
                    }
                }
            }
        }
        match &node.value {
            NodeValue::Map(entries) => self.mapping(obj, entries, path),
            NodeValue::Seq(items) => {
                if let Some(item_schema) = obj.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        path.push(PathSeg::Index(i));
                        self.node(item_schema, item, path);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn bounds(&mut self, obj: &Map<String, Value>, node: &Node, path: &[PathSeg]) {
        let number = match node.value {
            NodeValue::Int(i) => Some(i as f64),
            NodeValue::Float(f) => Some(f),
            _ => None,
        };
        // schemars gives Rust's integer widths as formats, without bounds for the top.
        let (format_min, format_max) = match obj.get("format").and_then(Value::as_str) {
            Some("uint8") => (Some(0.0), Some(f64::from(u8::MAX))),
            Some("uint16") => (Some(0.0), Some(f64::from(u16::MAX))),
            Some("uint32") => (Some(0.0), Some(f64::from(u32::MAX))),
            Some("uint64" | "uint") => (Some(0.0), Some(u64::MAX as f64)),
            Some("int32") => (Some(f64::from(i32::MIN)), Some(f64::from(i32::MAX))),
            Some("int64" | "int") => (Some(i64::MIN as f64), Some(i64::MAX as f64)),
            _ => (None, None),
        };
        if let Some(n) = number {
            if obj.get("maximum").is_none()
                && let Some(max) = format_max
                && n > max
            {
                self.report(path, format!("{n} is too large: the maximum is {max}"));
            }
            if obj.get("minimum").is_none()
                && let Some(min) = format_min
                && n < min
            {
                self.report(path, format!("{n} is too small: the minimum is {min}"));
            }
            if let Some(min) = obj.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                self.report(path, format!("{n} is too small: the minimum is {min}"));
            }
            if let Some(min) = obj.get("exclusiveMinimum").and_then(Value::as_f64)
                && n <= min
            {
                self.report(
                    path,
                    format!("{n} is too small: it must be more than {min}"),
                );
            }
            if let Some(max) = obj.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                self.report(path, format!("{n} is too large: the maximum is {max}"));
            }
        }
        if let NodeValue::Seq(items) = &node.value {
            if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                self.report(
                    path,
                    format!("needs at least {min} item(s), has {}", items.len()),
                );
            }
            if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                self.report(
                    path,
                    format!("allows at most {max} item(s), has {}", items.len()),
                );
            }
        }
        if let NodeValue::Str(s) = &node.value
            && let Some(min) = obj.get("minLength").and_then(Value::as_u64)
            && (s.chars().count() as u64) < min
        {
            self.report(path, "must not be empty".into());
        }
    }

    fn mapping(
        &mut self,
        obj: &'a Map<String, Value>,
        entries: &[(super::tree::Key, Node)],
        path: &mut Vec<PathSeg>,
    ) {
        let props = obj.get("properties").and_then(Value::as_object);
        let additional = obj.get("additionalProperties");
        for (key, value) in entries {
            path.push(PathSeg::Key(key.name.clone()));
            match props.and_then(|p| p.get(&key.name)) {
                Some(s) => self.node(s, value, path),
                None => match additional {
                    Some(Value::Bool(false)) => {
                        let known: Vec<&str> = props
                            .map(|p| p.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        self.problems.push(Problem {
                            path: path.clone(),
                            at_key: true,
                            message: unknown_name("field", &key.name, &known),
                            warning: false,
                        });
                    }
                    Some(s @ Value::Object(_)) => self.node(s, value, path),
                    _ => {}
                },
            }
            path.pop();
        }
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _)| k.name == r) {
                    // Point at the key of the mapping that lacks the field.
                    self.problems.push(Problem {
                        path: path.clone(),
                        at_key: true,
                        message: format!("missing required field `{r}`"),
                        warning: false,
                    });
                }
            }
        }
    }

    fn alternatives(
        &mut self,
        alts: &'a [Value],
        what: &str,
        node: &Node,
        path: &mut Vec<PathSeg>,
    ) {
        let alts: Vec<&Value> = alts.iter().map(|a| self.resolve(a)).collect();
        // An externally tagged enum: every alternative is a mapping with exactly one key.
        let tags: Vec<(&str, &Value)> = alts
            .iter()
            .filter_map(|a| single_tag(a).map(|name| (name, *a)))
            .collect();
        if !tags.is_empty() && tags.len() == alts.len() {
            let names: Vec<&str> = tags.iter().map(|(n, _)| *n).collect();
            match &node.value {
                NodeValue::Map(entries) if entries.len() == 1 => {
                    let (key, _) = &entries[0];
                    match tags.iter().find(|(n, _)| *n == key.name) {
                        Some((_, variant)) => self.node(variant, node, path),
                        None => {
                            path.push(PathSeg::Key(key.name.clone()));
                            self.problems.push(Problem {
                                path: path.clone(),
                                at_key: true,
                                message: unknown_name(what, &key.name, &names),
                                warning: false,
                            });
                            path.pop();
                        }
                    }
                }
                NodeValue::Map(entries) if entries.len() > 1 => {
                    let given: Vec<String> = entries
                        .iter()
                        .map(|(k, _)| format!("`{}`", k.name))
                        .collect();
                    self.report(
                        path,
                        format!(
                            "give exactly one {what} per entry, found {}: {}",
                            given.len(),
                            given.join(", ")
                        ),
                    );
                }
                other => self.report(
                    path,
                    format!(
                        "expected a {what} such as `{}: {{...}}`, found {}; one of: {}",
                        names[0],
                        other.describe(),
                        names.join(", ")
                    ),
                ),
            }
            return;
        }
        // Otherwise (Option<T> and friends): accept when one alternative accepts; else report
        // the problems of the alternative that is not `null`.
        let mut best: Option<Vec<Problem>> = None;
        for alt in &alts {
            let mut sub = Checker {
                root: self.root,
                problems: Vec::new(),
            };
            sub.node(alt, node, path);
            if sub.problems.is_empty() {
                return;
            }
            let is_null = alt.get("type").and_then(Value::as_str) == Some("null");
            if !is_null && best.is_none() {
                best = Some(sub.problems);
            }
        }
        match best {
            Some(problems) => self.problems.extend(problems),
            None => self.report(path, format!("unexpected {}", node.value.describe())),
        }
    }
}

/// The tag of an externally tagged enum variant: a mapping schema with one required key.
fn single_tag(schema: &Value) -> Option<&str> {
    let props = schema.get("properties")?.as_object()?;
    let required = schema.get("required")?.as_array()?;
    match (props.keys().next(), props.len(), required.len()) {
        (Some(name), 1, 1) => Some(name.as_str()),
        _ => None,
    }
}

fn type_matches(types: &Value, value: &NodeValue) -> bool {
    // A whole number too large for i64 is read as a float; it is still a whole number (the
    // bounds then say it is too large).
    let whole_float = matches!(value, NodeValue::Float(f) if f.is_finite() && f.fract() == 0.0);
    let one = |t: &str| {
        (t == "integer" && whole_float)
            || matches!(
                (t, value),
                ("null", NodeValue::Null)
                    | ("boolean", NodeValue::Bool(_))
                    | ("integer", NodeValue::Int(_))
                    | ("number", NodeValue::Int(_) | NodeValue::Float(_))
                    | ("string", NodeValue::Str(_))
                    | ("array", NodeValue::Seq(_))
                    | ("object", NodeValue::Map(_))
            )
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn wrong_type(obj: &Map<String, Value>, types: &Value, value: &NodeValue) -> String {
    // Our value types say what to write; a field's own description says what it is for.
    if let Some(expected) = obj
        .get("format")
        .and_then(Value::as_str)
        .and_then(super::values::format_expected)
    {
        return format!("expected {expected}, found {}", value.describe());
    }
    let name = |t: &str| match t {
        "null" => "nothing",
        "boolean" => "true or false",
        "integer" => "a whole number",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "a value",
    };
    let expected = match types {
        Value::String(t) => name(t).to_owned(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(name)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".into(),
    };
    format!("expected {expected}, found {}", value.describe())
}

fn unknown_value(value: &NodeValue, allowed: &[Value]) -> String {
    let names: Vec<String> = allowed
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect();
    let given = match value {
        NodeValue::Str(s) => format!("`{}`", crate::wording::cut(s)),
        other => other.describe(),
    };
    if names.len() == 1 {
        return format!("expected `{}`, found {given}", names[0]);
    }
    format!(
        "unknown value {given}; expected one of: {}",
        names.join(", ")
    )
}

fn unknown_name(what: &str, name: &str, known: &[&str]) -> String {
    let suggestion = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let mut sorted = known.to_vec();
    sorted.sort_unstable();
    format!(
        "unknown {what} `{}`{suggestion}; expected one of: {}",
        crate::wording::cut(name),
        sorted.join(", ")
    )
}
