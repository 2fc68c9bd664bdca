//! `rounds explain [NAME]`: what a detector or an action does and its arguments.

use super::{CommandError, Exit};
use crate::detect::Detector;
use crate::plan::Action;

pub fn explain(name: Option<&str>) -> Result<Exit, CommandError> {
    let Some(name) = name else {
        println!("Detectors (spec.detect):");
        for (n, text) in Detector::CATALOG {
            println!("  {n:<18} {}", text.lines().next().unwrap_or(""));
        }
        println!("\nActions (spec.remediate):");
        for (n, text) in Action::CATALOG {
            println!("  {n:<18} {}", text.lines().next().unwrap_or(""));
        }
        crate::notify::explain::list();
        println!("\nrounds explain NAME tells more.");
        return Ok(Exit::Done);
    };
    if crate::notify::explain::show(name) {
        return Ok(Exit::Done);
    }
    let found = Detector::CATALOG
        .iter()
        .map(|(n, t)| (n, t, "detector"))
        .chain(Action::CATALOG.iter().map(|(n, t)| (n, t, "action")))
        .find(|(n, _, _)| **n == name);
    match found {
        Some((n, text, what)) => {
            println!("{n} ({what})\n\n{text}");
            Ok(Exit::Done)
        }
        None => {
            let known: Vec<&str> = Detector::CATALOG
                .iter()
                .chain(Action::CATALOG)
                .map(|(n, _)| *n)
                .collect();
            Err(CommandError::Invalid(format!(
                "no detector or action is called `{name}`; known: {}",
                known.join(", ")
            )))
        }
    }
}
