//! Picking playbooks by name for one run (`--only`, or `ROUNDS_ONLY` in a manual Job).

use crate::playbook::Loaded;

/// Keeps the playbooks named in `only` (all of them when it is empty). A name that matches no
/// playbook is an error: a typo must not make a quiet round that checks nothing.
pub fn only(playbooks: Vec<Loaded>, only: &[String]) -> Result<Vec<Loaded>, String> {
    if only.is_empty() {
        return Ok(playbooks);
    }
    let unknown: Vec<&str> = only
        .iter()
        .map(String::as_str)
        .filter(|n| !playbooks.iter().any(|p| p.name() == *n))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = playbooks.iter().map(Loaded::name).collect();
        return Err(format!(
            "--only (ROUNDS_ONLY) names no such playbook: {}; the playbooks are: {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    Ok(playbooks
        .into_iter()
        .filter(|p| only.iter().any(|n| n == p.name()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Vec<Loaded> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
        crate::playbook::load(&[dir]).expect("the bundled playbooks load")
    }

    #[test]
    fn keeps_the_named_playbooks_in_their_order() {
        let all = bundled();
        let picked = only(
            all.clone(),
            &["oom-raise-memory".into(), "crashloop-restart".into()],
        )
        .expect("known names");
        let names: Vec<&str> = picked.iter().map(Loaded::name).collect();
        assert_eq!(names, ["crashloop-restart", "oom-raise-memory"]);
        assert_eq!(only(all.clone(), &[]).expect("all").len(), all.len());
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_it() {
        let e =
            only(bundled(), &["oom-raise-memory".into(), "oom-rise".into()]).expect_err("an error");
        assert!(
            e.starts_with("--only (ROUNDS_ONLY) names no such playbook: oom-rise;"),
            "{e}"
        );
        assert!(e.contains("oom-raise-memory"), "{e}");
    }
}
