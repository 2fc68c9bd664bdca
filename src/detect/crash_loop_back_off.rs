//! `crashLoopBackOff`: containers that keep crashing and being restarted.

use super::util::{cannot_start, role_name, target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use crate::objects::pod::ContainerRole;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct CrashLoopBackOff {
    /// Restarts needed before a crashing container counts as looping.
    #[schemars(range(min = 1, max = 100000))]
    pub min_restarts: u32,
}

impl Default for CrashLoopBackOff {
    fn default() -> Self {
        Self { min_restarts: 2 }
    }
}

impl CrashLoopBackOff {
    pub const EXPLAIN: &str = "\
Finds app, init and sidecar containers in a crash loop: waiting with reason CrashLoopBackOff,
or caught between two back-offs (state terminated, restarts rising, and the pod will restart
it). A container that exits 0 under restartPolicy Always loops too. A completed init
container, or a failed one in a pod with restartPolicy Never, is not a loop, and neither is
a container that cannot start (containerStartFailure reports those).
Arguments: minRestarts (default 2).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: crashloop-restart
spec:
  description: Restart workloads whose containers crash-loop.
  scope:
    namespaces: ["shop-*"]
    selector: app.kubernetes.io/part-of=shop
  detect:
    crashLoopBackOff: { minRestarts: 5 }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 2
    cooldown: 6h
    maxUnavailable: 25%
"#;
}

impl Detect for CrashLoopBackOff {
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
            // A container that cannot start is not crashing: restarting it never helps.
            if s.restart_count < i64::from(self.min_restarts) || cannot_start(s).is_some() {
                continue;
            }
            let waiting = s.state.waiting.as_ref();
            let backing_off = waiting.and_then(|w| w.reason.as_deref()) == Some("CrashLoopBackOff");
            let between = s.state.terminated.as_ref().is_some_and(|t| {
                let failed = t.exit_code != 0;
                match c.role {
                    ContainerRole::Sidecar => true,
                    ContainerRole::Init => failed && pod.restarts_containers(),
                    ContainerRole::App => match pod.spec.restart_policy.as_deref() {
                        Some("Never") => false,
                        Some("OnFailure") => failed,
                        _ => true,
                    },
                }
            });
            if !backing_off && !between {
                continue;
            }
            let last = s
                .last_state
                .terminated
                .as_ref()
                .or(s.state.terminated.as_ref());
            let evidence = Evidence {
                container_role: Some(role_name(c.role)),
                reason: last.and_then(|t| t.reason.clone()),
                exit_code: last.map(|t| t.exit_code),
                restart_count: Some(s.restart_count),
                finished_at: last.and_then(|t| t.finished_at.clone()),
                message: waiting
                    .and_then(|w| w.message.clone())
                    .or_else(|| last.and_then(|t| t.message.clone())),
                node: pod.spec.node_name.clone(),
                image: s
                    .image
                    .clone()
                    .or_else(|| c.spec.and_then(|sp| sp.image.clone())),
                ..Evidence::default()
            };
            let message = format!(
                "{} container {} is crash-looping: {} restart(s){}",
                role_name(c.role),
                s.name,
                s.restart_count,
                last.map(|t| format!(
                    ", last exit code {} ({})",
                    t.exit_code,
                    t.reason.as_deref().unwrap_or("no reason")
                ))
                .unwrap_or_default()
            );
            out.push(
                Detection::new(target(pod, &s.name), message, evidence)
                    .with_pod(pod)
                    .with_container_role(c.role),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    fn run(yaml: &str) -> Out {
        let mut out = Out::default();
        CrashLoopBackOff::default().detect(&pod(yaml), &at("2026-11-22T10:00:00Z"), &mut out);
        out
    }

    #[test]
    fn finds_back_off_and_exit_zero_loops() {
        let found = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  containerStatuses:
  - name: web
    restartCount: 5
    state: {waiting: {reason: CrashLoopBackOff, message: "back-off 2m40s restarting failed container"}}
    lastState: {terminated: {exitCode: 0, reason: Completed}}
"#);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "app container web is crash-looping: 5 restart(s), last exit code 0 (Completed)"
        );
    }

    #[test]
    fn finds_a_loop_caught_between_back_offs_but_not_a_finished_job_or_init() {
        let looping = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  initContainerStatuses:
  - name: migrate
    restartCount: 3
    state: {terminated: {exitCode: 1, reason: Error}}
"#);
        assert_eq!(looping.len(), 1);
        assert_eq!(looping[0].evidence.container_role, Some("init"));
        let quiet = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
spec: {restartPolicy: Never}
status:
  initContainerStatuses:
  - name: setup
    restartCount: 3
    state: {terminated: {exitCode: 0, reason: Completed}}
  containerStatuses:
  - name: job
    restartCount: 3
    state: {terminated: {exitCode: 42, reason: Error}}
"#);
        assert!(quiet.is_empty());
    }

    #[test]
    fn needs_the_minimum_restarts() {
        let found = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  containerStatuses:
  - name: web
    restartCount: 1
    state: {waiting: {reason: CrashLoopBackOff}}
"#);
        assert!(found.is_empty());
    }
}
