//! `containerStartFailure`: containers that cannot start at all, so no restart, rollout or
//! memory raise helps: a missing ConfigMap, Secret or key, a container that cannot be created,
//! a command that cannot run, an image name that cannot be parsed.

use super::util::{Cause, cannot_start, role_name, target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerStartFailure {}

impl ContainerStartFailure {
    pub const EXPLAIN: &str = "\
Finds containers (app, init, sidecar) that cannot start: waiting with reason
CreateContainerConfigError (a missing ConfigMap, Secret or key: the evidence names it),
CreateContainerError, RunContainerError or InvalidImageName, or not running after a
termination with reason ContainerCannotRun or StartError (a command that does not exist or
cannot be executed: exit code 127, 126 or 128). None of these is a crash loop or an OOM kill,
and crashLoopBackOff does not report them: restarting or raising memory never helps, the pod
spec or what it refers to must change. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: container-start-failure-notify
spec:
  description: Tell the owners about containers that cannot start, and what they are missing.
  scope:
    excludeNamespaces: ["kube-*"]
  detect:
    containerStartFailure: {}
  remediate:
    - notifyOnly: {}
  notify:
    evidence: { events: true }
"#;
}

impl Detect for ContainerStartFailure {
    fn reads(&self) -> Reads {
        Reads::Pods
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Pod
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::Pod(pod) = object else { return };
        for c in pod.containers() {
            let s = c.status;
            let Some((reason, cause, termination)) = cannot_start(s) else {
                continue;
            };
            let waiting_message = s.state.waiting.as_ref().and_then(|w| w.message.clone());
            let message_text =
                waiting_message.or_else(|| termination.and_then(|t| t.message.clone()));
            let missing = match cause {
                Cause::Config => message_text.as_deref().and_then(missing_reference),
                _ => None,
            };
            let image = c
                .spec
                .and_then(|sp| sp.image.clone())
                .or_else(|| s.image.clone());
            let role = role_name(c.role);
            let what = match (cause, &missing) {
                (Cause::Config, Some(m)) => format!("{m} is missing"),
                (Cause::Config, None) => "its configuration cannot be built".to_owned(),
                (Cause::Create, _) => "the runtime cannot create it".to_owned(),
                (Cause::Run, _) => match termination.map(|t| t.exit_code) {
                    Some(code) => format!("its command cannot run (exit code {code})"),
                    None => "its command cannot run".to_owned(),
                },
                (Cause::ImageName, _) => format!(
                    "the image name {} is invalid",
                    image.as_deref().unwrap_or("<unknown>")
                ),
            };
            let message = format!(
                "{role} container {} cannot start ({reason}): {what}",
                s.name
            );
            let evidence = Evidence {
                container_role: Some(role),
                reason: Some(reason.to_owned()),
                exit_code: termination.map(|t| t.exit_code),
                restart_count: Some(s.restart_count),
                finished_at: termination.and_then(|t| t.finished_at.clone()),
                message: message_text,
                missing,
                image,
                node: pod.spec.node_name.clone(),
                ..Evidence::default()
            };
            out.push(
                Detection::new(target(pod, &s.name), message, evidence)
                    .with_pod(pod)
                    .with_container_role(c.role),
            );
        }
    }
}

/// What a CreateContainerConfigError message says is missing, in the kubelet's words:
/// `configmap "app" not found`, `secret "db" not found`,
/// `couldn't find key password in Secret shop/db`.
fn missing_reference(message: &str) -> Option<String> {
    if let Some(rest) = find_after(message, "couldn't find key ") {
        let (key, rest) = rest.split_once(" in ")?;
        let (kind, object) = rest.split_once(' ')?;
        let object = object
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()?;
        return Some(format!("key {key} in {kind} {object}"));
    }
    for (needle, kind) in [
        ("configmaps \"", "ConfigMap"),
        ("configmap \"", "ConfigMap"),
        ("secrets \"", "Secret"),
        ("secret \"", "Secret"),
    ] {
        if let Some(rest) = find_after(message, needle)
            && let Some((name, tail)) = rest.split_once('"')
            && tail.trim_start().starts_with("not found")
        {
            return Some(format!("{kind} {name}"));
        }
    }
    None
}

/// The text after the first case-insensitive occurrence of an ASCII `needle`.
fn find_after<'a>(haystack: &'a str, needle: &str) -> Option<&'a str> {
    let at = haystack.to_ascii_lowercase().find(needle)?;
    haystack.get(at + needle.len()..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    fn run(yaml: &str) -> Out {
        let mut out = Out::default();
        ContainerStartFailure::default().detect(&pod(yaml), &at("2026-11-22T10:00:00Z"), &mut out);
        out
    }

    fn waiting(reason: &str, message: &str) -> String {
        format!(
            r#"
kind: Pod
metadata: {{name: p, namespace: shop}}
spec: {{containers: [{{name: app, image: "reg/app:1"}}]}}
status:
  containerStatuses:
  - name: app
    restartCount: 0
    state: {{waiting: {{reason: {reason}, message: {message:?}}}}}
"#
        )
    }

    #[test]
    fn names_the_missing_config_map_secret_or_key() {
        for (message, missing) in [
            ("configmap \"app-config\" not found", "ConfigMap app-config"),
            ("secret \"db\" not found", "Secret db"),
            (
                "couldn't find key password in Secret shop/db",
                "key password in Secret shop/db",
            ),
            (
                "couldn't find key LOG_LEVEL in ConfigMap shop/app-config",
                "key LOG_LEVEL in ConfigMap shop/app-config",
            ),
        ] {
            let found = run(&waiting("CreateContainerConfigError", message));
            assert_eq!(found.len(), 1, "{message}");
            assert_eq!(found[0].evidence.missing.as_deref(), Some(missing));
            assert_eq!(
                found[0].message,
                format!(
                    "app container app cannot start (CreateContainerConfigError): {missing} is missing"
                )
            );
        }
    }

    #[test]
    fn a_command_that_cannot_run_is_a_start_failure_not_a_crash_loop() {
        // containerd: waiting in CrashLoopBackOff after a StartError; the crash-loop detector
        // leaves it to this one.
        let yaml = r#"
kind: Pod
metadata: {name: p, namespace: shop}
status:
  containerStatuses:
  - name: app
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff, message: "back-off 1m20s restarting failed container"}}
    lastState: {terminated: {exitCode: 128, reason: StartError, message: 'exec: "serve": executable file not found in $PATH'}}
"#;
        let found = run(yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "app container app cannot start (StartError): its command cannot run (exit code 128)"
        );
        let mut loops = Out::default();
        crate::detect::crash_loop_back_off::CrashLoopBackOff::default().detect(
            &pod(yaml),
            &at("2026-11-22T10:00:00Z"),
            &mut loops,
        );
        assert!(loops.is_empty(), "not a crash loop");
    }

    #[test]
    fn invalid_image_names_and_create_errors_and_init_containers() {
        let found = run(&waiting(
            "InvalidImageName",
            "Failed to apply default image tag",
        ));
        assert_eq!(
            found[0].message,
            "app container app cannot start (InvalidImageName): the image name reg/app:1 is invalid"
        );
        let found = run(&waiting(
            "CreateContainerError",
            "failed to reserve container name",
        ));
        assert_eq!(
            found[0].message,
            "app container app cannot start (CreateContainerError): the runtime cannot create it"
        );
        let init = run(r#"
kind: Pod
metadata: {name: p, namespace: shop}
status:
  initContainerStatuses:
  - name: migrate
    restartCount: 1
    state: {terminated: {exitCode: 127, reason: ContainerCannotRun}}
"#);
        assert_eq!(init.len(), 1);
        assert_eq!(init[0].evidence.container_role, Some("init"));
        assert_eq!(init[0].evidence.exit_code, Some(127));
    }

    #[test]
    fn running_containers_and_pull_failures_are_not_start_failures() {
        assert!(run(&waiting("ImagePullBackOff", "Back-off pulling image")).is_empty());
        assert!(run(&waiting("ContainerCreating", "")).is_empty());
        let recovered = run(r#"
kind: Pod
metadata: {name: p, namespace: shop}
status:
  containerStatuses:
  - name: app
    restartCount: 1
    state: {running: {startedAt: "2026-11-22T09:00:00Z"}}
    lastState: {terminated: {exitCode: 127, reason: ContainerCannotRun}}
"#);
        assert!(recovered.is_empty(), "it runs now");
    }
}
