//! `oomKilled`: containers the kernel killed for running out of memory.

use super::util::{CLOCK_TOLERANCE, future_note, role_name, target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::pod::StateTerminated;
use crate::objects::{Object, Timestamp};
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct OomKilled {
    /// OOM kills needed within `within`, counted over all pods of the owning workload (or the
    /// pod alone when it has no owner).
    #[schemars(range(min = 1, max = 1000))]
    pub min_count: u32,
    /// Only kills that ended this recently count.
    pub within: Duration,
}

impl Default for OomKilled {
    fn default() -> Self {
        Self {
            min_count: 1,
            within: Duration::from_secs(6 * 3600),
        }
    }
}

impl OomKilled {
    pub const EXPLAIN: &str = "\
Finds containers whose current or last termination has reason OOMKilled: app containers,
init containers and sidecars alike. The exit code does not matter (kubelets report 137 and
also 1); exit code 137 with reason Error is a SIGKILL from elsewhere and is not counted.
Kubernetes keeps only the current and the last termination of each container, so a kill is
counted when its finishedAt lies within `within` before the round (unreadable times count).
A kill dated more than 5 minutes after the round's time (a wrong clock, or a wrong --now) is
not counted, and the report says so.
Arguments: minCount (default 1): kills needed across the pods of one owning workload;
within (default 6h).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: oom-raise-memory
spec:
  description: Raise memory limits of workloads OOMKilled twice within 6h, up to 4Gi.
  scope:
    excludeNamespaces: ["kube-*"]
  detect:
    oomKilled: { minCount: 2, within: 6h }
  severity: warning
  remediate:
    - raiseMemoryLimit: { factor: 1.5, max: 4Gi }
  guards:
    maxActionsPerRound: 3
    cooldown: 24h
"#;
}

impl Detect for OomKilled {
    fn reads(&self) -> Reads {
        Reads::Pods
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Pod
    }

    fn min_occurrences_per_owner(&self) -> u32 {
        self.min_count
    }

    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out) {
        let Object::Pod(pod) = object else { return };
        for c in pod.containers() {
            let kills = oom_kills(
                c.status.state.terminated.as_ref(),
                c.status.last_state.terminated.as_ref(),
            );
            let mut recent: Vec<&StateTerminated> = Vec::new();
            for t in kills {
                match when(t) {
                    Some(w) if w > ctx.now + CLOCK_TOLERANCE => out.note(future_note(
                        &format!(
                            "an OOM kill of container {} of Pod {}/{}",
                            c.status.name,
                            pod.namespace(),
                            pod.metadata.name
                        ),
                        w,
                        ctx.now,
                    )),
                    Some(w) if ctx.now - w > self.within.chrono() => {}
                    // An unreadable time counts: safer to report.
                    _ => recent.push(t),
                }
            }
            let Some(latest) = recent.first() else {
                continue;
            };
            let count = recent.len() as u32;
            let limit = c
                .spec
                .and_then(|s| s.resources.limits.get("memory"))
                .map(|q| q.0.clone());
            let evidence = Evidence {
                container_role: Some(role_name(c.role)),
                reason: latest.reason.clone(),
                exit_code: Some(latest.exit_code),
                restart_count: Some(c.status.restart_count),
                occurrences: Some(count),
                started_at: latest.started_at.clone(),
                finished_at: latest.finished_at.clone(),
                message: latest.message.clone(),
                node: pod.spec.node_name.clone(),
                memory_limit: limit.clone(),
                ..Evidence::default()
            };
            let message = format!(
                "{} container {} was OOMKilled (exit code {}){}; {} restart(s){}",
                role_name(c.role),
                c.status.name,
                latest.exit_code,
                if count > 1 {
                    format!(" {count} times")
                } else {
                    String::new()
                },
                c.status.restart_count,
                limit
                    .map(|l| format!("; memory limit {l}"))
                    .unwrap_or_default(),
            );
            let mut d = Detection::new(target(pod, &c.status.name), message, evidence)
                .with_pod(pod)
                .with_container_role(c.role);
            d.occurrences = count;
            out.push(d);
        }
    }
}

/// When a kill happened: its finish, else its start, if readable.
fn when(t: &StateTerminated) -> Option<chrono::DateTime<chrono::Utc>> {
    t.finished_at
        .as_ref()
        .or(t.started_at.as_ref())
        .and_then(Timestamp::time)
}

/// The distinct OOM kills among the current and the last termination, newest first.
fn oom_kills<'a>(
    current: Option<&'a StateTerminated>,
    last: Option<&'a StateTerminated>,
) -> Vec<&'a StateTerminated> {
    let is_oom = |t: &&StateTerminated| t.reason.as_deref() == Some("OOMKilled");
    let mut kills: Vec<&StateTerminated> = current.into_iter().chain(last).filter(is_oom).collect();
    if let [a, b] = kills.as_slice()
        && a.container_id.is_some()
        && a.container_id == b.container_id
    {
        kills.truncate(1);
    }
    kills
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop}
spec:
  containers:
  - name: api
    resources: {limits: {memory: 256Mi}}
  - name: proxy
status:
  containerStatuses:
  - name: api
    restartCount: 4
    state: {running: {startedAt: "2026-11-22T09:58:00Z"}}
    lastState:
      terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2026-11-22T09:57:50Z", containerID: "containerd://a"}
  - name: proxy
    restartCount: 1
    state: {running: {}}
    lastState:
      terminated: {exitCode: 137, reason: Error, finishedAt: "2026-11-22T09:57:50Z"}
"#;

    fn run(d: &OomKilled, yaml: &str, now: &str) -> Out {
        let mut out = Out::default();
        d.detect(&pod(yaml), &at(now), &mut out);
        out
    }

    #[test]
    fn finds_the_oom_killed_container_and_not_a_plain_sigkill() {
        let found = run(&OomKilled::default(), POD, "2026-11-22T10:00:00Z");
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.target.container.as_deref(), Some("api"));
        assert_eq!(f.evidence.exit_code, Some(137));
        assert_eq!(f.evidence.memory_limit.as_deref(), Some("256Mi"));
        assert_eq!(
            f.message,
            "app container api was OOMKilled (exit code 137); 4 restart(s); memory limit 256Mi"
        );
    }

    #[test]
    fn ignores_kills_older_than_the_window() {
        let d = OomKilled {
            within: "1h".parse().expect("duration"),
            ..OomKilled::default()
        };
        assert!(run(&d, POD, "2026-11-22T11:00:00Z").is_empty());
        assert_eq!(run(&d, POD, "2026-11-22T10:57:00Z").len(), 1);
    }

    #[test]
    fn kills_dated_after_the_round_are_not_counted_and_noted() {
        let d = OomKilled::default();
        let mut out = Out::default();
        d.detect(&pod(POD), &at("2026-11-22T09:00:00Z"), &mut out);
        assert!(out.is_empty());
        assert_eq!(
            out.notes,
            [
                "an OOM kill of container api of Pod shop/api-1 is dated 2026-11-22T09:57:50Z, after the round's time 2026-11-22T09:00:00Z: not counted (a wrong clock, or a wrong --now?)"
            ]
        );
        // A few minutes early (a round takes time; clocks drift) is still now.
        assert_eq!(run(&d, POD, "2026-11-22T09:55:00Z").len(), 1);
    }

    #[test]
    fn counts_current_and_last_kills_once_each() {
        let yaml = r#"
kind: Pod
metadata: {name: w, namespace: ns}
status:
  initContainerStatuses:
  - name: init
    restartCount: 2
    state: {terminated: {exitCode: 1, reason: OOMKilled, containerID: b}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, containerID: a}}
"#;
        let found = run(&OomKilled::default(), yaml, "2026-11-22T10:00:00Z");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurrences, 2);
        assert_eq!(found[0].evidence.container_role, Some("init"));
        assert_eq!(found[0].evidence.exit_code, Some(1));
    }
}
