//! Messages in the user's words: what serde and the YAML parser say, translated from Rust's
//! (`i64`, `Option<String>`, `Depth { depth: 65 }`), and every quoted text cut to a length a
//! person can read, so a 20 MB value never becomes a 20 MB error.

/// Longest quoted text kept whole in a message, in characters.
pub const MAX_QUOTED: usize = 80;

/// `text` whole when it is short; else its start, `…` and its length.
pub fn cut(text: &str) -> String {
    cut_to(text, MAX_QUOTED)
}

pub fn cut_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}… ({} bytes)", text.len())
}

/// `text` in double quotes (escaped as Rust's `{:?}` does), its start only when it is long:
/// `"xxxx…" (20971520 bytes)`.
pub fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(MAX_QUOTED).collect();
    let quoted = format!("{head:?}");
    format!("{}…\" ({} bytes)", &quoted[..quoted.len() - 1], text.len())
}

/// A library's own error text: usually short, but it may echo input; cut it generously.
pub fn library_message(message: &str) -> String {
    cut_to(message, 240)
}

/// A window of at most `width` characters of `line` around the 1-based character `column`,
/// with `…` where it was cut, and the column of the same character inside the window.
pub fn window(line: &str, column: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        return (line.to_owned(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let start = at
        .saturating_sub(width / 2)
        .min(chars.len().saturating_sub(width));
    let end = (start + width).min(chars.len());
    let mut out = String::new();
    let mut col = at - start + 1;
    if start > 0 {
        out.push('…');
        col += 1;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push_str(&format!("… ({} bytes)", line.len()));
    }
    (out, col)
}

/// serde's "invalid type: string \"x\", expected i64" as "expected a whole number, found the
/// string \"x\"", and the other messages of serde's derive in the same spirit.
pub fn plain_serde_message(message: &str) -> String {
    for (prefix, found_first) in [("invalid type: ", true), ("invalid value: ", true)] {
        if let Some(rest) = message.strip_prefix(prefix)
            && found_first
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            let expected = expected_in_words(expected);
            let found = found_in_words(found);
            return if prefix == "invalid value: " && is_unsigned(rest) {
                format!("expected {expected} (not negative), found {found}")
            } else {
                format!("expected {expected}, found {found}")
            };
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ")
        && let Some((n, expected)) = rest.split_once(", expected ")
    {
        return format!(
            "expected {}, found {n} item(s)",
            expected_in_words(expected)
        );
    }
    cut(message)
}

fn is_unsigned(rest: &str) -> bool {
    rest.ends_with("expected u64")
        || rest.ends_with("expected u32")
        || rest.ends_with("expected u16")
        || rest.ends_with("expected u8")
        || rest.ends_with("expected usize")
}

/// What serde says it expected, in words (`i64` → "a whole number").
pub fn expected_in_words(expected: &str) -> String {
    let e = expected.trim();
    let words = match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" | "bool" => "true or false",
        "a string" | "a borrowed string" | "a char" | "char" => "a string",
        "a sequence" | "a tuple" => "a list",
        "a map" => "a mapping",
        "option" | "unit" => "a value",
        _ => "",
    };
    if !words.is_empty() {
        return words.to_owned();
    }
    if let Some(inner) = e.strip_prefix("Option<").and_then(|s| s.strip_suffix('>')) {
        return expected_in_words(inner);
    }
    if e == "String" {
        return "a string".into();
    }
    if e.starts_with("struct ") || e.starts_with("a struct") || e.starts_with("map") {
        return "a mapping".into();
    }
    if e.starts_with("Vec<") || e.starts_with("a sequence") {
        return "a list".into();
    }
    cut(e)
}

/// serde's `Unexpected` as a user reads it.
fn found_in_words(found: &str) -> String {
    let f = found.trim();
    if let Some(s) = f.strip_prefix("string ") {
        // serde quotes and escapes it already.
        let inner = s
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(s);
        if inner.chars().count() <= MAX_QUOTED {
            return format!("the string \"{inner}\"");
        }
        let head: String = inner.chars().take(MAX_QUOTED).collect();
        return format!("the string \"{head}…\" ({} bytes)", inner.len());
    }
    for prefix in ["integer ", "floating point "] {
        if let Some(n) = f.strip_prefix(prefix) {
            return format!("the number {}", cut(n.trim_matches('`')));
        }
    }
    if let Some(b) = f.strip_prefix("boolean ") {
        return format!("the boolean {}", b.trim_matches('`'));
    }
    match f {
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "unit value" | "null" | "Option value" => "nothing (null)".into(),
        other => cut(other),
    }
}

/// What the YAML parser says, in one short line without its position (callers print that in
/// front) and without advice about the library's options; budget breaches in words.
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    let mut e = e;
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = e
    {
        e = error;
    }
    match e {
        serde_saphyr::Error::Budget { breach, .. } => return budget_message(breach),
        serde_saphyr::Error::NonFiniteFloat { value, .. } => {
            return format!(
                "{} is not a finite number (.nan and .inf are not values Kubernetes writes)",
                quote(value)
            );
        }
        _ => {}
    }
    let raw = e.to_string();
    let line = raw.lines().next().unwrap_or(&raw).trim();
    let line = line.split(" at line ").next().unwrap_or(line);
    let line = match line.strip_prefix("error: line ") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, m)| m),
        None => line,
    };
    cut(&line.replace(", set DuplicateKeyPolicy in Options if acceptable", ""))
}

/// A parser limit that was hit, in words (never `Depth { depth: 65 }`).
pub fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { depth } => format!(
            "refused: the document is nested more than {} levels deep",
            depth.saturating_sub(1)
        ),
        B::Nodes { nodes } => format!(
            "refused: the document has more than {} values once YAML aliases are expanded; anchors and aliases must not multiply content",
            nodes.saturating_sub(1)
        ),
        B::Events { .. } | B::ScalarBytes { .. } | B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => {
            "refused: the document is too large once YAML aliases are expanded; anchors and aliases must not multiply content".into()
        }
        B::Aliases { aliases } => format!("refused: more than {} YAML aliases", aliases.saturating_sub(1)),
        B::Anchors { anchors } => format!("refused: more than {} YAML anchors", anchors.saturating_sub(1)),
        B::AliasAnchorRatio { .. } => {
            "refused: far more YAML aliases than anchors; anchors and aliases must not multiply content".into()
        }
        B::Documents { documents } => {
            format!("refused: more than {} YAML documents", documents.saturating_sub(1))
        }
        B::SequenceUnbalanced => "the structure is unbalanced: the input looks cut off".into(),
        B::InputBytes { input_bytes } => format!("refused: the input is larger than {input_bytes} bytes"),
        _ => "refused: the document exceeds a limit of the YAML parser".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_in_words() {
        for (raw, plain) in [
            (
                "invalid type: string \"many\", expected i64",
                "expected a whole number, found the string \"many\"",
            ),
            (
                "invalid type: floating point `1.5`, expected u32",
                "expected a whole number, found the number 1.5",
            ),
            (
                "invalid type: sequence, expected a string",
                "expected a string, found a list",
            ),
            (
                "invalid type: sequence, expected a map",
                "expected a mapping, found a list",
            ),
            (
                "invalid type: map, expected Option<String>",
                "expected a string, found a mapping",
            ),
            (
                "invalid value: integer `-1`, expected u64",
                "expected a whole number (not negative), found the number -1",
            ),
            (
                "invalid type: boolean `true`, expected struct Resources",
                "expected a mapping, found the boolean true",
            ),
        ] {
            assert_eq!(plain_serde_message(raw), plain, "{raw}");
        }
    }

    #[test]
    fn long_text_is_cut_with_its_length() {
        let long = "x".repeat(20 * 1024 * 1024);
        let message =
            plain_serde_message(&format!("invalid type: string \"{long}\", expected i64"));
        assert_eq!(
            message,
            format!(
                "expected a whole number, found the string \"{}…\" (20971520 bytes)",
                "x".repeat(80)
            )
        );
        assert_eq!(cut("short"), "short");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(
            quote(&"y".repeat(100)),
            format!("\"{}…\" (100 bytes)", "y".repeat(80))
        );
    }

    #[test]
    fn a_window_keeps_the_column_in_view() {
        let line = format!("{}key: value{}", "k".repeat(1000), "v".repeat(1000));
        let (shown, col) = window(&line, 1001, 40);
        assert!(
            shown.starts_with('…') && shown.ends_with("… (2010 bytes)"),
            "{shown}"
        );
        assert_eq!(
            shown.chars().skip(col - 1).take(4).collect::<String>(),
            "key:"
        );
        assert_eq!(window("short", 3, 40), ("short".to_owned(), 3));
    }
}
