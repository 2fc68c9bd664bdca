//! Playbooks: loading, validation (every error at once, with `file:line:col`), the schema.

pub mod diagnostic;
pub mod document;
pub mod schema_check;
pub mod scope;
pub mod spec;
pub mod tree;
pub mod values;

pub use diagnostic::{Diagnostic, Level};
pub use document::Located;
pub use spec::{Playbook, Severity};

use crate::detect::{Detector, TargetKind};
use crate::plan::Action;
use document::Source;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tree::PathSeg;

/// A validated playbook with where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub playbook: Playbook,
    pub file: String,
    /// `sha256:` of the document's canonical JSON form: formatting and comments do not change
    /// it, any change of meaning does.
    pub digest: String,
    /// The document as written, to report later findings about it (warnings) at their line.
    pub located: Located,
}

/// A valid document of another kind found among playbooks (the runner config given to
/// `rounds validate`), typed by the caller's check.
#[derive(Debug, Clone)]
pub struct LoadedConfig<C> {
    pub config: C,
    pub file: String,
    /// `sha256:` of the canonical JSON form, as for playbooks.
    pub digest: String,
    pub located: Located,
}

/// Everything read from a set of paths: the valid documents, every error of all files, and
/// warnings (valid values that look wrong). `C` is what the caller's [`OtherKind`] check makes
/// of documents of another kind (nothing for a plain [`load`]).
#[derive(Debug)]
pub struct Loading<C = ()> {
    pub playbooks: Vec<Loaded>,
    pub configs: Vec<LoadedConfig<C>>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl<C> Default for Loading<C> {
    fn default() -> Self {
        Self {
            playbooks: Vec::new(),
            configs: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Checks a document of another kind found among playbooks (the runner config, for
/// `rounds validate`): its `kind` and how to check it. (Given by the caller, so playbooks
/// need not know the runner config.)
pub type OtherKind<'a, C> = (
    &'a str,
    &'a dyn Fn(&Source, &tree::Node) -> Result<C, Vec<Diagnostic>>,
);

/// `sha256:` of a document's canonical form (JSON with sorted keys).
pub fn digest(doc: &tree::Node) -> String {
    let canonical = serde_json::to_vec(&doc.to_json()).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

impl Loaded {
    pub fn name(&self) -> &str {
        &self.playbook.metadata.name
    }
}

/// The JSON Schema of a playbook, generated from the types.
pub fn schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Playbook>();
    schema.to_value()
}

/// Every `.yaml`/`.yml` file a path stands for, sorted.
pub fn playbook_files(path: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let read = std::fs::read_dir(path).map_err(|e| {
        Diagnostic::new(
            &path.display().to_string(),
            "",
            tree::Pos::default(),
            "(document)".into(),
            format!("cannot read the directory: {e}"),
        )
    })?;
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads and validates every playbook under `paths`. Returns all problems of all files
/// together. Warnings (valid values that look wrong) are logged.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, Vec<Diagnostic>> {
    let loading = load_all::<()>(paths, &[]);
    for w in &loading.warnings {
        tracing::warn!(
            file = %w.file,
            line = w.line,
            column = w.column,
            field = %w.path,
            "{}",
            w.message
        );
    }
    if loading.errors.is_empty() {
        Ok(loading.playbooks)
    } else {
        Err(loading.errors)
    }
}

/// Reads every document under `paths`: playbooks, and documents of the `others` kinds (the
/// runner config, for `rounds validate`), each checked by its own check. Valid documents are
/// kept even when others have errors, so later checks (`crate::lint`) can still look at them.
pub fn load_all<C>(paths: &[PathBuf], others: &[OtherKind<C>]) -> Loading<C> {
    let schema = schema();
    let mut out = Loading::default();
    let problems = &mut out.errors;
    let warnings = &mut out.warnings;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for path in paths {
        let files = match playbook_files(path) {
            Ok(f) => f,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        if files.is_empty() && path.is_dir() {
            problems.push(Diagnostic::new(
                &path.display().to_string(),
                "",
                tree::Pos::default(),
                "(document)".into(),
                "no playbook files (.yaml or .yml) in this directory".into(),
            ));
            continue;
        }
        for file in files {
            let source = match Source::read(&file) {
                Ok(s) => Arc::new(s),
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            let docs = match source.documents() {
                Ok(d) => d,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            if docs.is_empty() {
                problems.push(source.diagnostic(
                    tree::Pos::default(),
                    &[],
                    "the file has no YAML document".into(),
                ));
            }
            for doc in docs {
                let kind = doc.get("kind").map(|k| k.to_json());
                let kind = kind.as_ref().and_then(|k| k.as_str());
                if let Some((_, check)) = others.iter().find(|(k, _)| Some(*k) == kind) {
                    match check(&source, &doc) {
                        Ok(config) => out.configs.push(LoadedConfig {
                            config,
                            file: source.file.clone(),
                            digest: digest(&doc),
                            located: Located::new(&source, doc),
                        }),
                        Err(mut d) => problems.append(&mut d),
                    }
                    continue;
                }
                let typed: Result<Playbook, _> = source.typed_noting(&schema, &doc, warnings);
                // Checks across fields run on what can be read, even when other fields of the
                // document are wrong: every problem of the file is reported at once.
                let cross = cross_checks(&doc);
                let name_path = [PathSeg::Key("metadata".into()), PathSeg::Key("name".into())];
                if let Some(name) = doc
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(|n| n.to_json().as_str().map(str::to_owned))
                    && let Some(first) = names.insert(name.clone(), source.file.clone())
                {
                    problems.push(source.diagnostic(
                        doc.locate(&name_path),
                        &name_path,
                        format!(
                            "a playbook named `{}` is already defined in {first}",
                            crate::wording::cut(&name)
                        ),
                    ));
                }
                let cross_failed = !cross.is_empty();
                problems.extend(
                    cross.into_iter().map(|(path, message)| {
                        source.diagnostic(doc.locate(&path), &path, message)
                    }),
                );
                let playbook = match typed {
                    Ok(p) => p,
                    Err(mut d) => {
                        problems.append(&mut d);
                        continue;
                    }
                };
                if cross_failed {
                    continue;
                }
                out.playbooks.push(Loaded {
                    playbook,
                    file: source.file.clone(),
                    digest: digest(&doc),
                    located: Located::new(&source, doc),
                });
            }
        }
    }
    out.errors
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    out
}

/// Checks that span fields, on the parts of the document that can be read on their own: each
/// action must be able to act on what the detector finds, and each action's own arguments
/// must agree (scale's min and max, runJob's containers).
fn cross_checks(doc: &tree::Node) -> Vec<(Vec<PathSeg>, String)> {
    let spec = doc.get("spec");
    let detector: Option<Detector> = spec
        .and_then(|s| s.get("detect"))
        .and_then(|d| serde_json::from_value(d.to_json()).ok());
    let Some(tree::NodeValue::Seq(actions)) =
        spec.and_then(|s| s.get("remediate")).map(|r| &r.value)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, node) in actions.iter().enumerate() {
        let Ok(action) = serde_json::from_value::<Action>(node.to_json()) else {
            continue;
        };
        let base = vec![
            PathSeg::Key("spec".into()),
            PathSeg::Key("remediate".into()),
            PathSeg::Index(i),
            PathSeg::Key(action.name().into()),
        ];
        let acts_on = action.imp().acts_on();
        if let Some(detector) = &detector {
            let finds = detector.imp().target_kind();
            if !acts_on.contains(&finds) {
                let kinds: Vec<&str> = acts_on.iter().map(|k| TargetKind::as_str(*k)).collect();
                out.push((
                    base.clone(),
                    format!(
                        "{} acts on {} findings, but {} finds {}s",
                        action.name(),
                        kinds.join(" and "),
                        detector.name(),
                        finds.as_str()
                    ),
                ));
            }
        }
        for (field, message) in action.imp().problems() {
            let mut path = base.clone();
            path.extend(field.split('.').map(|k| PathSeg::Key(k.to_owned())));
            out.push((path, message));
        }
    }
    out
}
