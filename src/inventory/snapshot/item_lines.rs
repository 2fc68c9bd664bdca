//! Which lines of one YAML list item reach the parser. In block YAML, as kubectl prints it,
//! indentation alone tells a mapping's keys from their values: a line at a mapping's own
//! indentation is one of its keys (or an entry of a `- ` list that is a key's value), never
//! the continuation of a value, which the YAML spec requires to be indented deeper. So the
//! fields no object view reads are left out line by line, before the parser spends its time on
//! them: `metadata.managedFields` (half of a dump's bytes), top-level fields outside
//! [`READ_FIELDS`] (a ConfigMap's `data`), and after a `kind` rounds does not read, all but
//! `apiVersion`, as [`super::document::Filtered`] would drop them after parsing.
//!
//! Only plain keys with nothing after the colon open what is left out; any other form
//! (quoted keys, flow values, anchors, tags) keeps every line. What is left out is checked only
//! for its indentation; its text is not parsed.

use crate::objects::{READ_FIELDS, reads_kind};

pub struct ItemLines {
    /// The indentation of the item's keys (2 in kubectl's output); `None`: keep every line.
    keys: Option<usize>,
    metadata: Metadata,
    /// Leaving out the value of a key at this indentation.
    dropping: Option<usize>,
    /// The item's `kind` is one rounds does not read.
    unread_kind: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metadata {
    Outside,
    /// After `metadata:`, before its first key.
    Opened,
    /// Inside `metadata`, whose keys are at this indentation.
    Keys(usize),
}

impl ItemLines {
    /// For an item whose first line is `first`, with the item's `- ` already made spaces.
    /// That line is always kept: it begins the item.
    pub fn new(first: &[u8]) -> Self {
        let indent = spaces(first);
        let mut this = Self {
            keys: Some(indent),
            metadata: Metadata::Outside,
            dropping: None,
            unread_kind: false,
        };
        if !this.keep(first) {
            // The item begins with a field left out: keep the whole item instead.
            this.keys = None;
            this.dropping = None;
        }
        this
    }

    /// Whether the next line of the item is kept.
    pub fn keep(&mut self, line: &[u8]) -> bool {
        let Some(keys) = self.keys else {
            return true;
        };
        let indent = spaces(line);
        let rest = &line[indent..];
        let blank = is_blank_or_comment(rest);
        if let Some(at) = self.dropping {
            if blank || indent > at || (indent == at && is_entry(rest)) {
                return false;
            }
            self.dropping = None;
        }
        if blank {
            return true;
        }
        if indent <= keys {
            self.metadata = Metadata::Outside;
        } else if self.metadata == Metadata::Opened {
            self.metadata = Metadata::Keys(indent);
        }
        if indent == keys && !is_entry(rest) {
            return self.item_key(rest, keys);
        }
        if let Metadata::Keys(at) = self.metadata
            && indent == at
            && let Some((b"managedFields", value)) = plain_key(rest)
            && is_blank_or_comment(value)
        {
            self.dropping = Some(at);
            return false;
        }
        true
    }

    fn item_key(&mut self, rest: &[u8], keys: usize) -> bool {
        let Some((key, value)) = plain_key(rest) else {
            return true;
        };
        let read = if self.unread_kind {
            key == b"apiVersion"
        } else {
            READ_FIELDS.iter().any(|f| f.as_bytes() == key)
        };
        if !read {
            self.dropping = Some(keys);
            return false;
        }
        if key == b"kind"
            && let Some(kind) = plain_word(value)
        {
            self.unread_kind = !reads_kind(kind);
        }
        if key == b"metadata" && is_blank_or_comment(value) {
            self.metadata = Metadata::Opened;
        }
        true
    }
}

/// The number of spaces a line begins with.
pub fn spaces(line: &[u8]) -> usize {
    line.iter().take_while(|b| **b == b' ').count()
}

/// Nothing but spaces, a comment or the line's end.
pub fn is_blank_or_comment(rest: &[u8]) -> bool {
    let rest = rest.trim_ascii_start();
    rest.is_empty() || rest[0] == b'#'
}

/// A `- ` list entry (or a lone `-`).
fn is_entry(rest: &[u8]) -> bool {
    rest.first() == Some(&b'-') && rest.get(1).is_none_or(|b| b.is_ascii_whitespace())
}

/// `key: value` with a plain key of letters, digits and `_.-/`: the key and what follows the
/// colon.
pub fn plain_key(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
        .count();
    if len == 0 || !rest[0].is_ascii_alphabetic() {
        return None;
    }
    let after = rest[len..].strip_prefix(b":")?;
    if !after.first().is_none_or(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some((&rest[..len], after))
}

/// A value that is one plain word (`Pod`), nothing after it.
fn plain_word(value: &[u8]) -> Option<&str> {
    let word = value.trim_ascii();
    (!word.is_empty() && word.iter().all(u8::is_ascii_alphanumeric))
        .then(|| std::str::from_utf8(word).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The item with every left-out line made empty, as the parser gets it.
    fn kept(item: &str) -> String {
        let mut lines = item.split_inclusive('\n');
        let first = lines.next().expect("a first line");
        let mut filter = ItemLines::new(first.as_bytes());
        let mut out = first.to_owned();
        for line in lines {
            out.push_str(if filter.keep(line.as_bytes()) {
                line
            } else {
                "\n"
            });
        }
        out
    }

    #[test]
    fn leaves_out_managed_fields_and_unread_fields_keeping_line_numbers() {
        let item = "  apiVersion: v1\n  data:\n    big: |\n      managedFields:\n  kind: Pod\n  metadata:\n    labels:\n      managedFields: x\n    managedFields:\n    - f:a: {}\n      f:b:\n        .: {}\n\n    # note\n    name: a\n  spec:\n    containers:\n    - name: c\n";
        assert_eq!(
            kept(item),
            "  apiVersion: v1\n\n\n\n  kind: Pod\n  metadata:\n    labels:\n      managedFields: x\n\n\n\n\n\n\n    name: a\n  spec:\n    containers:\n    - name: c\n"
        );
    }

    #[test]
    fn after_an_unread_kind_keeps_only_api_version() {
        let item = "  kind: ConfigMap\n  metadata:\n    name: a\n  apiVersion: v1\n  spec: {}\n";
        assert_eq!(kept(item), "  kind: ConfigMap\n\n\n  apiVersion: v1\n\n");
    }

    #[test]
    fn keeps_every_line_it_cannot_prove_unread() {
        for item in [
            // Not plain keys, or values on the key's line.
            "  kind: Pod\n  \"data\":\n    x: 1\n  metadata: &m\n    managedFields:\n    - a\n",
            "  kind: Pod\n  metadata: {managedFields: [],\n    name: a}\n",
            // A block scalar whose text looks like keys.
            "  kind: Pod\n  metadata:\n    annotations:\n      note: |\n        managedFields:\n        - a\n",
            // A quoted kind.
            "  kind: \"Pod\"\n  metadata:\n    name: a\n",
        ] {
            assert_eq!(kept(item), item);
        }
        // An item that begins with a field left out is kept whole.
        let item = "  data:\n    a: b\n  kind: Pod\n";
        assert_eq!(kept(item), item);
    }

    #[test]
    fn a_compact_list_at_the_key_s_indentation_belongs_to_the_key() {
        let item = "  kind: Pod\n  metadata:\n    managedFields:\n    - a: 1\n    -\n    name: a\n  status:\n    phase: Running\n";
        assert_eq!(
            kept(item),
            "  kind: Pod\n  metadata:\n\n\n\n    name: a\n  status:\n    phase: Running\n"
        );
    }
}
