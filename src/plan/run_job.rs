//! `runJob`: create a Job from a template in the playbook, told about the finding through
//! environment variables.

use super::{ALL_TARGETS, PlanAction, PlanCheck, PlanContext, Refusal, Step, target};
use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunJob {
    /// Where to create the Job; default the finding's namespace (required for node findings).
    #[serde(default)]
    #[schemars(extend("format" = "dns-label"))]
    pub namespace: Option<String>,
    pub template: JobTemplate,
    /// Seconds a finished Job is kept before Kubernetes deletes it (default one hour).
    #[serde(default = "default_ttl")]
    #[schemars(range(min = 0, max = 604800))]
    pub ttl_seconds_after_finished: u32,
    /// Run the Job's pod on the finding's node (nodeName), e.g. to clean up a node's disk.
    #[serde(default)]
    pub run_on_target_node: bool,
}

fn default_ttl() -> u32 {
    3600
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobTemplate {
    #[serde(default)]
    pub metadata: TemplateMeta,
    /// A batch/v1 JobSpec; it needs `template.spec.containers`.
    pub spec: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateMeta {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl RunJob {
    pub const EXPLAIN: &str = "\
Creates a batch/v1 Job from `template` (metadata labels/annotations and a JobSpec) in
`namespace` or the finding's namespace. The Job's name is derived from the playbook and the
finding's fingerprint, so a retried round does not start it twice. Each container gets
ROUNDS_TARGET_KIND, ROUNDS_TARGET_NAMESPACE, ROUNDS_TARGET_NAME, ROUNDS_TARGET_NODE and
ROUNDS_FINGERPRINT; the Job gets ttlSecondsAfterFinished and, unless the template sets one,
restartPolicy Never.
Arguments: namespace (optional), template (required), ttlSecondsAfterFinished (3600),
runOnTargetNode (false: set the pod's nodeName to the finding's node).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: node-disk-cleanup
spec:
  detect:
    diskPressure: { for: 5m }
  remediate:
    - runJob:
        namespace: rounds
        template:
          metadata:
            labels: { app.kubernetes.io/name: disk-cleanup }
          spec:
            backoffLimit: 0
            template:
              spec:
                restartPolicy: Never
                containers:
                  - name: cleanup
                    image: registry.example.com/ops/disk-cleanup:1.2
                    args: ["--older-than", "7d"]
  guards:
    maxActionsPerRound: 1
    cooldown: 2h
"#;
}

impl PlanAction for RunJob {
    fn acts_on(&self) -> &'static [TargetKind] {
        ALL_TARGETS
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, Refusal> {
        let finding = target::of_finding(f)?;
        let Some(ns) = self
            .namespace
            .clone()
            .or_else(|| f.target.namespace.clone())
        else {
            return Err(Refusal::new(
                Some(finding),
                PlanCheck::Target,
                "the finding is cluster-scoped; set runJob.namespace",
            ));
        };
        let node = f
            .facts
            .node
            .clone()
            .or_else(|| (f.target.kind == TargetKind::Node).then(|| f.target.name.clone()));
        let hash = f.fingerprint.trim_start_matches("sha256:");
        let prefix: String = f.playbook.chars().take(40).collect();
        let name = format!(
            "rounds-{}-{}",
            prefix.trim_end_matches('-'),
            &hash[..hash.len().min(10)]
        );
        let job = ObjectRef::namespaced(&Resource::JOB, &ns, &name).map_err(|e| {
            Refusal::new(
                Some(finding.clone()),
                PlanCheck::Target,
                format!("cannot name the Job: {e}"),
            )
        })?;
        let mut labels = self.template.metadata.labels.clone();
        labels.insert("app.kubernetes.io/managed-by".into(), "rounds".into());
        labels.insert("rounds.dev/playbook".into(), f.playbook.clone());
        let mut annotations = self.template.metadata.annotations.clone();
        annotations.insert("rounds.dev/fingerprint".into(), f.fingerprint.clone());
        let mut spec = Value::Object(self.template.spec.clone());
        let env = json!([
            {"name": "ROUNDS_TARGET_KIND", "value": f.target.kind.as_str()},
            {"name": "ROUNDS_TARGET_NAMESPACE", "value": f.target.namespace.clone().unwrap_or_default()},
            {"name": "ROUNDS_TARGET_NAME", "value": f.target.name},
            {"name": "ROUNDS_TARGET_NODE", "value": node.clone().unwrap_or_default()},
            {"name": "ROUNDS_FINGERPRINT", "value": f.fingerprint},
        ]);
        if let Some(containers) = spec
            .pointer_mut("/template/spec/containers")
            .and_then(Value::as_array_mut)
        {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                let list = c.entry("env").or_insert_with(|| json!([]));
                if let (Some(list), Some(extra)) = (list.as_array_mut(), env.as_array()) {
                    list.extend(extra.iter().cloned());
                }
            }
        }
        if let Some(pod_spec) = spec
            .pointer_mut("/template/spec")
            .and_then(Value::as_object_mut)
        {
            pod_spec
                .entry("restartPolicy")
                .or_insert_with(|| json!("Never"));
            if self.run_on_target_node
                && let Some(n) = &node
            {
                pod_spec.insert("nodeName".into(), json!(n));
            }
        }
        spec["ttlSecondsAfterFinished"] = json!(self.ttl_seconds_after_finished);
        Ok(Step {
            summary: format!("create {} for {}", job.display(), finding.display()),
            request: Some(Request::create(
                &job,
                json!({
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
                    "spec": spec,
                }),
            )),
            target: job,
        })
    }

    fn problems(&self) -> Vec<(String, String)> {
        let containers = Value::Object(self.template.spec.clone());
        let ok = containers
            .pointer("/template/spec/containers")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        if ok {
            Vec::new()
        } else {
            vec![(
                "template.spec".into(),
                "a Job template needs template.spec.containers with at least one container".into(),
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{ctx, index, pod_finding};

    #[test]
    fn creates_a_named_job_with_the_finding_in_its_environment() {
        let action: RunJob = serde_saphyr::from_str(
            "template:\n  spec:\n    template:\n      spec:\n        restartPolicy: Never\n        containers: [{name: fix, image: busybox}]\n",
        )
        .expect("valid");
        assert!(action.problems().is_empty());
        let idx = index("");
        let mut f = pod_finding(None);
        f.fingerprint = "sha256:0123456789abcdef".into();
        f.facts.node = Some("node-a".into());
        let step = action.plan(&f, &ctx(&idx)).expect("planned");
        let req = step.request.expect("request");
        assert_eq!(req.path(), "/apis/batch/v1/namespaces/shop/jobs");
        let body = req.body().expect("body");
        assert_eq!(body["metadata"]["name"], "rounds-pb-0123456789");
        let pod = &body["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["env"][2]["value"], "api-5d9f-x1");
        assert_eq!(pod["containers"][0]["env"][3]["value"], "node-a");
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(body["spec"]["ttlSecondsAfterFinished"], 3600);
    }

    #[test]
    fn a_template_without_containers_is_a_problem() {
        let action: RunJob =
            serde_saphyr::from_str("template:\n  spec: {backoffLimit: 1}\n").expect("parses");
        assert_eq!(action.problems().len(), 1);
    }
}
