//! The guards the API server answers: after every checked guard allowed a write, the server's
//! answer to it (or to its dry run) can still hold it back. They are checked by nobody here:
//! `execute` maps the answer to the guard, and these are what `rounds explain` says of them.

pub struct DisruptionBudget;

impl DisruptionBudget {
    pub const EXPLAIN: &str = "The Eviction API answered 429: the pod's PodDisruptionBudget allows no disruption now. A skip, not a failure; the next round tries again. Only evictPod asks the Eviction API; deletePod does not consult PodDisruptionBudgets (it needs ignoreDisruptionBudgets: true). No settings: the PodDisruptionBudgets of the cluster decide.";

    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: evict-crashlooping-pods
spec:
  detect:
    crashLoopBackOff: { minRestarts: 10 }
  remediate:
    # Answered 429 while the pod's PodDisruptionBudget allows no disruption: skipped.
    - evictPod: { gracePeriodSeconds: 30 }
  guards:
    maxActionsPerRound: 2
"#;
}

pub struct TargetGone;

impl TargetGone {
    pub const EXPLAIN: &str = "The target no longer exists (404): there is nothing to remediate. A skip, not a failure: the pod was replaced or the object deleted between the round's read and its write. No settings.";

    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: clean-evicted-pods
spec:
  detect:
    evicted: {}
  remediate:
    # A pod already deleted by someone else is answered 404: skipped as targetGone.
    - deleteFailedPods: { minAge: 1h }
  guards:
    maxActionsPerRound: 20
"#;
}

pub struct AlreadyDone;

impl AlreadyDone {
    pub const EXPLAIN: &str = "The object a runJob creates already exists (409 AlreadyExists), or an earlier round's write was found done. A skip, not a failure: the Job's name comes from the playbook and the finding, so a second round does not start a second Job. No settings.";

    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: clean-node-disk
spec:
  detect:
    diskPressure: { for: 10m }
  remediate:
    # The Job for a node exists already (409): skipped as alreadyDone.
    - runJob:
        namespace: rounds
        template:
          spec:
            backoffLimit: 0
            template:
              spec:
                restartPolicy: Never
                containers:
                  - name: cleanup
                    image: registry.example.com/ops/disk-cleanup:1.2
  guards:
    maxActionsPerRound: 1
"#;
}

pub struct Forbidden;

impl Forbidden {
    pub const EXPLAIN: &str = "In a dry-run round, the API server refused the dry run (403): rounds' RBAC does not allow the write, so apply would fail; the reason names what to grant. (In an apply round a 403 fails the action.) Read-only RBAC (the observe overlay) answers every dry run so. No settings: the RBAC of rounds' service account decides.";

    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: cordon-not-ready-nodes
spec:
  detect:
    nodeNotReady: { for: 10m }
  remediate:
    # Without RBAC to patch nodes, the dry run is answered 403: skipped as forbidden.
    - cordonNode: {}
  guards:
    maxActionsPerRound: 1
"#;
}
