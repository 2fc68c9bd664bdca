//! `imagePullBackOff`: containers whose image cannot be pulled.

use super::util::{role_name, target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use schemars::JsonSchema;
use serde::Deserialize;

/// `InvalidImageName` is not here: no pull is ever tried, containerStartFailure reports it.
const PULL_FAILURES: &[&str] = &["ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull"];

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePullBackOff {}

impl ImagePullBackOff {
    pub const EXPLAIN: &str = "\
Finds containers (app, init, sidecar) waiting with reason ImagePullBackOff, ErrImagePull or
ErrImageNeverPull. The image and the kubelet's message are evidence. An image name that does
not parse (InvalidImageName) is never pulled: containerStartFailure reports it. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: image-pull-notify
spec:
  description: Tell the owners about images that cannot be pulled.
  detect:
    imagePullBackOff: {}
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for ImagePullBackOff {
    fn reads(&self) -> Reads {
        Reads::Pods
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Pod
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::Pod(pod) = object else { return };
        for c in pod.containers() {
            let Some(waiting) = c.status.state.waiting.as_ref() else {
                continue;
            };
            let Some(reason) = waiting
                .reason
                .as_deref()
                .filter(|r| PULL_FAILURES.contains(r))
            else {
                continue;
            };
            let image = c
                .spec
                .and_then(|s| s.image.clone())
                .or_else(|| c.status.image.clone());
            let evidence = Evidence {
                container_role: Some(role_name(c.role)),
                reason: Some(reason.to_owned()),
                restart_count: Some(c.status.restart_count),
                message: waiting.message.clone(),
                image: image.clone(),
                node: pod.spec.node_name.clone(),
                ..Evidence::default()
            };
            let message = format!(
                "{} container {} cannot pull image {} ({reason})",
                role_name(c.role),
                c.status.name,
                image.as_deref().unwrap_or("<unknown>")
            );
            out.push(
                Detection::new(target(pod, &c.status.name), message, evidence)
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

    #[test]
    fn finds_pull_failures_only() {
        let p = pod(r#"
kind: Pod
metadata: {name: p, namespace: ns}
spec: {containers: [{name: a, image: "reg/app:nope"}, {name: b, image: "reg/b:1"}]}
status:
  containerStatuses:
  - {name: a, restartCount: 0, image: "reg/app:nope", state: {waiting: {reason: ErrImagePull, message: "not found"}}}
  - {name: b, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}
"#);
        let mut out = Out::default();
        ImagePullBackOff::default().detect(&p, &at("2026-11-22T10:00:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].message,
            "app container a cannot pull image reg/app:nope (ErrImagePull)"
        );
    }
}
