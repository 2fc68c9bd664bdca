//! `rounds schema`: the JSON Schema of playbooks, the runner config or the lock, generated from
//! the types, for editors (draft-07, which yaml-language-server and JetBrains IDEs read) or in
//! the 2020-12 dialect `rounds validate` checks against.

use super::{CommandError, Exit};
use crate::cli::{SchemaArgs, SchemaDraft, SchemaKind};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

fn generate<T: JsonSchema>(draft: SchemaDraft) -> serde_json::Value {
    let settings = match draft {
        SchemaDraft::Draft07 => SchemaSettings::draft07(),
        SchemaDraft::Draft2020_12 => SchemaSettings::draft2020_12(),
    };
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

pub fn document_schema(kind: SchemaKind, draft: SchemaDraft) -> serde_json::Value {
    match kind {
        SchemaKind::Playbook => generate::<crate::playbook::Playbook>(draft),
        SchemaKind::Config => generate::<crate::config::RunnerConfig>(draft),
        SchemaKind::Lock => generate::<crate::lock::Lock>(draft),
    }
}

pub fn schema(args: &SchemaArgs) -> Result<Exit, CommandError> {
    let schema = document_schema(args.kind, args.draft);
    let text = serde_json::to_string_pretty(&schema)
        .map_err(|e| CommandError::CouldNotRun(format!("cannot print the schema: {e}")))?;
    println!("{text}");
    Ok(Exit::Done)
}
