//! `jobFailed`: Jobs that gave up (backoff limit, deadline).

use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, Target, TargetKind};
use crate::objects::meta::condition;
use crate::objects::{Object, WorkloadKind};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFailed {}

impl JobFailed {
    pub const EXPLAIN: &str = "\
Finds Jobs whose Failed condition is True (BackoffLimitExceeded, DeadlineExceeded...). The
owning CronJob, if any, is the finding's owner. A failed pod of a Job is not an eviction and
not a crash loop; this detector reports the Job itself. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: job-failed-notify
spec:
  description: Tell the owners about failed Jobs.
  scope:
    namespaces: [batch]
  detect:
    jobFailed: {}
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for JobFailed {
    fn reads(&self) -> Reads {
        Reads::Jobs
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Job
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::Workload(job) = object else {
            return;
        };
        if job.kind != WorkloadKind::Job {
            return;
        }
        let Some(c) = condition(&job.conditions, "Failed").filter(|c| c.status == "True") else {
            return;
        };
        let evidence = Evidence {
            reason: c.reason.clone(),
            message: c.message.clone(),
            since: c.last_transition_time.clone(),
            occurrences: job.failed.and_then(|f| u32::try_from(f).ok()),
            ..Evidence::default()
        };
        let message = format!(
            "job failed{}{}",
            c.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        let target = Target {
            kind: TargetKind::Job,
            namespace: Some(job.namespace().to_owned()),
            name: job.metadata.name.clone(),
            container: None,
        };
        out.push(Detection::new(target, message, evidence).with_meta(&job.metadata));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, object};

    #[test]
    fn finds_failed_jobs_only() {
        let job = |status: &str| {
            object(&format!(
                "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: backup-1, namespace: ops}}\nstatus:\n  failed: 6\n  conditions: [{{type: Failed, status: \"{status}\", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}}]\n"
            ))
        };
        let mut out = Out::default();
        JobFailed::default().detect(&job("True"), &at("2026-11-22T10:00:00Z"), &mut out);
        JobFailed::default().detect(&job("False"), &at("2026-11-22T10:00:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].message,
            "job failed (BackoffLimitExceeded): Job has reached the specified backoff limit"
        );
        assert_eq!(out[0].evidence.occurrences, Some(6));
    }
}
