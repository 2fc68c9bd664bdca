//! Every detector over the real-world object dumps in `../shared/realworld` (published by other
//! projects; see its README). Every expectation of that README is checked here, NEGATIVE files
//! included: for each file, the exact set of findings of every detector.
//!
//! The folder is not copied into the project. CI has it beside the checkout; elsewhere set
//! ROUNDS_REALWORLD_DIR. Without it this test fails loudly rather than pass on nothing.

use chrono::{DateTime, Duration, Utc};
use rounds::detect::{DetectContext, Detection, Detector};
use rounds::objects::{Decoded, Object};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn realworld_dir() -> PathBuf {
    let dir = std::env::var_os("ROUNDS_REALWORLD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld"));
    assert!(
        dir.join("README.md").is_file(),
        "\n\n!!! The real-world dumps are missing at {}.\n!!! They live in ../shared/realworld beside the checkout (CI has them);\n!!! set ROUNDS_REALWORLD_DIR to a copy. Refusing to pass without them.\n",
        dir.display()
    );
    dir
}

fn detector(yaml: &str) -> Detector {
    serde_saphyr::from_str(yaml).expect("detector")
}

/// Defaults of every detector, as a playbook with `detector: {}` gets them.
fn all_detectors() -> Vec<Detector> {
    [
        "oomKilled: {}",
        "crashLoopBackOff: {}",
        "imagePullBackOff: {}",
        "evicted: {}",
        "diskPressure: {}",
        "nodeNotReady: {}",
        "unschedulable: {}",
        "jobFailed: {}",
        "pvcUsage: {}",
        "nodeFilesystemUsage: {}",
        "containerStartFailure: {}",
        "nodeOomKilled: {}",
    ]
    .into_iter()
    .map(detector)
    .collect()
}

/// Fixed "now" for the is-healthy fixtures whose times are `@now-5m` style placeholders.
fn placeholder_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("time")
        .to_utc()
}

/// Replaces `@now-5m`, `@now-2h`, `@now-5d` by RFC 3339 times before `placeholder_now()`.
fn substitute_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("@now-") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 5..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        let unit = tail[digits.len()..].chars().next().unwrap_or('m');
        let n: i64 = digits.parse().expect("placeholder amount");
        let ago = match unit {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            other => panic!("unknown placeholder unit {other}"),
        };
        out.push_str(&(placeholder_now() - ago).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        rest = &tail[digits.len() + unit.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The reference time of a dump: an hour after the latest RFC 3339 time written in it, as if a
/// round ran an hour after the capture (a pod that was unschedulable then has been for an hour).
fn reference_time(text: &str) -> DateTime<Utc> {
    let bytes = text.as_bytes();
    let mut latest: Option<DateTime<Utc>> = None;
    for i in 0..bytes.len().saturating_sub(20) {
        let candidate = &text[i..i + 20];
        if candidate.as_bytes()[4] == b'-'
            && candidate.as_bytes()[10] == b'T'
            && candidate.ends_with('Z')
            && let Ok(t) = DateTime::parse_from_rfc3339(candidate)
        {
            let t = t.to_utc();
            latest = Some(latest.map_or(t, |l| l.max(t)));
        }
    }
    latest.unwrap_or_else(placeholder_now) + Duration::hours(1)
}

/// Reads a file through the real snapshot reader.
fn objects(path: &Path, text: &str) -> Vec<Object> {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join(path.file_name().expect("file name"));
    std::fs::write(&copy, text).expect("write");
    let mut out = Vec::new();
    let limits = rounds::inventory::snapshot::Limits::DEFAULT;
    let notes = rounds::inventory::snapshot::read(&[copy], limits, &mut |d| {
        if let Decoded::Object(o) = d {
            out.push(o)
        }
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(notes.is_empty(), "{}: {notes:?}", path.display());
    assert!(!out.is_empty(), "{}: no objects", path.display());
    out
}

fn describe(name: &str, d: &Detection) -> String {
    let e = &d.evidence;
    let mut s = format!("{name}: {}", d.target.display());
    if let Some(r) = &e.reason {
        s.push_str(&format!(" reason={r}"));
    }
    if let Some(x) = e.exit_code {
        s.push_str(&format!(" exit={x}"));
    }
    if let Some(n) = e.restart_count {
        s.push_str(&format!(" restarts={n}"));
    }
    if let Some(r) = e.container_role {
        s.push_str(&format!(" role={r}"));
    }
    if let Some(i) = &e.image {
        s.push_str(&format!(" image={i}"));
    }
    if let Some(p) = e.used_percent {
        s.push_str(&format!(" used={p}%"));
    }
    s
}

fn run(detectors: &[Detector], objects: &[Object], now: DateTime<Utc>) -> BTreeSet<String> {
    let ctx = DetectContext { now };
    let mut found = BTreeSet::new();
    for d in detectors {
        let mut out = rounds::detect::Out::default();
        for o in objects {
            d.imp().detect(o, &ctx, &mut out);
        }
        found.extend(out.iter().map(|x| describe(d.name(), x)));
    }
    found
}

fn load(rel: &str) -> (Vec<Object>, DateTime<Utc>) {
    let path = realworld_dir().join(rel);
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if raw.contains("@now-") {
        (
            objects(&path, &substitute_placeholders(&raw)),
            placeholder_now(),
        )
    } else {
        (objects(&path, &raw), reference_time(&raw))
    }
}

/// What every detector finds in one file, with default arguments.
fn findings(rel: &str) -> BTreeSet<String> {
    let (objects, now) = load(rel);
    run(&all_detectors(), &objects, now)
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

macro_rules! expect {
    ($name:ident, $file:literal, [$($line:literal),* $(,)?]) => {
        #[test]
        fn $name() {
            assert_eq!(findings($file), set(&[$($line),*]), "{}", $file);
        }
    };
}

// a: OOMKilled in state or lastState, exit code 137 or 1, sidecars too; siblings are quiet.
expect!(
    argo_main_container_oom,
    "a-oomkilled/argo-main-container-oomkilled.yaml",
    [
        "oomKilled: Pod default/argo-podWithMainContainerOOM container=main reason=OOMKilled exit=137 restarts=0 role=app",
    ]
);
expect!(
    argo_wait_sidecar_oom,
    "a-oomkilled/argo-wait-sidecar-oomkilled.yaml",
    [
        "oomKilled: Pod default/argo-podWithWaitContainerOOM container=wait reason=OOMKilled exit=137 restarts=0 role=app",
    ]
);
expect!(
    atomist_oom_exit_1,
    "a-oomkilled/atomist-oom-kill-kaniko.yaml",
    [
        "oomKilled: Pod production/oom-kill container=kaniko reason=OOMKilled exit=1 restarts=0 role=app",
    ]
);
expect!(
    flanksource_oom_unhealthy,
    "a-oomkilled/flanksource-oomkilled-unhealthy.yaml",
    [
        "oomKilled: Pod mission-control/oomkilled-pod container=oomkilled reason=OOMKilled exit=1 restarts=9 role=app",
    ]
);
expect!(
    flanksource_oom_recent_but_ready,
    "a-oomkilled/flanksource-oomkilled-warning.yaml",
    [
        "oomKilled: Pod mission-control/oomkilled-pod container=oomkilled reason=OOMKilled exit=1 restarts=9 role=app",
    ]
);

// b: crash loops in app and init containers, between back-offs, after exit 0.
expect!(
    gitops_crashloop,
    "b-crashloop/gitops-engine-pod-crashloop.yaml",
    [
        "crashLoopBackOff: Pod argocd/my-pod container=main reason=Error exit=1 restarts=3 role=app image=alpine:latest",
    ]
);
expect!(
    gitops_error_between_backoffs,
    "b-crashloop/gitops-engine-pod-error-between-backoffs.yaml",
    [
        "crashLoopBackOff: Pod argocd/my-pod container=main reason=Error exit=1 restarts=2 role=app image=alpine:latest",
    ]
);
expect!(
    holmesgpt_malformed_timestamps,
    "b-crashloop/holmesgpt-frontend-service-crashloop.yaml",
    [
        "crashLoopBackOff: Pod default/frontend-service container=stress reason=Error exit=255 restarts=7 role=app image=docker.io/jfusterm/stress:latest",
    ]
);
expect!(
    newrelic_exit_zero_loop,
    "b-crashloop/newrelic-e2e-container-creating-crashloop-exit0.yaml",
    [
        "crashLoopBackOff: Pod scraper/e2e-container-creating container=alpine reason=Completed exit=0 restarts=3 role=app image=docker.io/library/alpine:3.22.1",
    ]
);
expect!(
    insights_init_container_loop,
    "b-crashloop/insights-vsystem-init-container-crashloop.yaml",
    [
        "crashLoopBackOff: Pod di-288312/vsystem-867f4b77cc-pqcns container=vsystem-hana-init reason=Error exit=1 restarts=7527 role=init image=pvx092.wdf.sap.corp/slvi/288312/com.sap.datahub.linuxx86_64/vsystem-hana-init:3.3.30",
    ]
);
expect!(
    atomist_init_between_backoffs,
    "b-crashloop/atomist-init-fail-restarts13.yaml",
    [
        "crashLoopBackOff: Pod production/init-fail container=fail reason=Error exit=1 restarts=13 role=init image=docker.io/library/busybox:1.31.1-uclibc",
    ]
);

// c: image pulls.
expect!(
    gitops_image_pull,
    "c-imagepull/gitops-engine-guestbook-imagepullbackoff.yaml",
    [
        "imagePullBackOff: Pod default/guestbook-ui-errimagepullbackoff-66cfffb669-45w2j container=errimagepullbackoff reason=ImagePullBackOff restarts=0 role=app image=gcr.io/heptio-images/ks-guestbook-demo:0.3",
    ]
);
expect!(
    atomist_image_pull,
    "c-imagepull/atomist-image-pull-backoff.yaml",
    [
        "imagePullBackOff: Pod production/image-pull-backoff container=nothing reason=ImagePullBackOff restarts=0 role=app image=notanimage/thatexistsanywhere:badtag",
    ]
);

// d: evictions, and a failed Job pod that is not one.
expect!(
    flanksource_evicted,
    "d-evicted/flanksource-evicted-memory.yaml",
    ["evicted: Pod default/evicted-pod reason=Evicted"]
);
expect!(
    argo_evicted_running_containers,
    "d-evicted/argo-evicted-with-running-containers.yaml",
    ["evicted: Pod default/test-pod reason=Evicted"]
);
expect!(
    negative_failed_job_pod,
    "d-evicted/NEGATIVE-newrelic-failjob-exit42-not-evicted.yaml",
    []
);

// e: nodes. Ready's status is trusted over its stale reason.
expect!(
    negative_healthy_node,
    "e-nodes/NEGATIVE-k9s-minikube-node-healthy.yaml",
    []
);
expect!(
    memory_pressure_is_not_disk_pressure,
    "e-nodes/flanksource-gke-node-memorypressure.yaml",
    []
);
expect!(
    node_not_ready_by_status,
    "e-nodes/flanksource-gke-node-notready-inconsistent.yaml",
    ["nodeNotReady: Node gk3-infra-cluster-pool-2-be3fcd50-lzd5 reason=KubeletReady",]
);

// f: unschedulable pods.
expect!(
    newrelic_unschedulable_affinity,
    "f-unschedulable/newrelic-e2e-container-pending-node-affinity.yaml",
    ["unschedulable: Pod scraper/e2e-container-pending reason=Unschedulable",]
);
expect!(
    openshift_router_unschedulable,
    "f-unschedulable/insights-openshift-router-unschedulable-hostport.yaml",
    ["unschedulable: Pod openshift-ingress/router-default-7bbdcfcf9b-7xdln reason=Unschedulable",]
);
expect!(
    atomist_insufficient_resources,
    "f-unschedulable/atomist-no-schedule-insufficient-cpu-memory.yaml",
    ["unschedulable: Pod production/no-schedule reason=Unschedulable",]
);

// g: kubelet summaries at the default threshold (90%).
expect!(
    aks_four_pvcs_not_full,
    "g-kubelet-summary/aks-2018-stats-summary-with-4-pvcs.json",
    []
);
expect!(
    negative_minikube_no_pvc,
    "g-kubelet-summary/NEGATIVE-minikube-1.32-stats-summary-no-pvc.json",
    []
);

// h: healthy pods, old restarts, an OOM kill five days ago, a native sidecar.
expect!(
    healthy_cert_manager_old_restarts,
    "h-healthy/flanksource-cert-manager-webhook-257-old-restarts.yaml",
    []
);
expect!(
    healthy_oom_long_ago,
    "h-healthy/flanksource-oomkilled-long-ago-now-healthy.yaml",
    []
);
expect!(
    healthy_alpine,
    "h-healthy/gitops-engine-alpine-running.yaml",
    []
);
expect!(
    healthy_robusta_runner,
    "h-healthy/holmesgpt-robusta-runner-healthy.yaml",
    []
);
expect!(
    healthy_native_sidecar,
    "h-healthy/k9s-native-sidecar-healthy.yaml",
    []
);
expect!(
    healthy_newrelic_deployment,
    "h-healthy/newrelic-deployment-pod-healthy.yaml",
    []
);

// i: a container that cannot start (a typed PodList): not an OOM kill, not (yet) a crash loop.
expect!(
    troubleshoot_init_command_cannot_run,
    "i-start-failure/troubleshoot-init-runcontainererror.yaml",
    [
        "containerStartFailure: Pod message-pod-init-crashloop-backoff/init-demo2 container=install reason=RunContainerError exit=127 restarts=1 role=init image=busybox:1.28",
    ]
);

// j: Events. A typed EventList of pod and job Events has no node OOM kill; the fragment does.
expect!(
    troubleshoot_events_without_node_oom,
    "j-events/troubleshoot-events-imagepull-oomjob-failedscheduling.yaml",
    []
);
expect!(
    node_oom_killing_event_without_api_version,
    "j-events/k8s-134490-node-oomkilling-event-FRAGMENT.yaml",
    ["nodeOomKilled: Node XXXXXXXXXX reason=OOMKilling"]
);

/// Every file of the folder is covered by a test above: a new dump cannot go unchecked.
#[test]
fn every_file_is_covered() {
    let this = include_str!("realworld.rs");
    let dir = realworld_dir();
    let mut missing = Vec::new();
    for sub in std::fs::read_dir(&dir).expect("dir") {
        let sub = sub.expect("entry").path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).expect("dir") {
            let rel = f
                .expect("entry")
                .path()
                .strip_prefix(&dir)
                .expect("rel")
                .display()
                .to_string();
            if !this.contains(&format!("\"{rel}\"")) {
                missing.push(rel);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without expectations: {missing:?}"
    );
}

fn pvc_findings(objects: &[Object], now: DateTime<Utc>) -> BTreeSet<String> {
    // A zero threshold reports every claim, so the computed shares can be checked.
    run(
        &[detector(
            "pvcUsage: { usedPercent: 0%, inodesUsedPercent: 100% }",
        )],
        objects,
        now,
    )
}

#[test]
fn aks_summary_has_exactly_four_claims_with_their_shares() {
    let (objects, now) = load("g-kubelet-summary/aks-2018-stats-summary-with-4-pvcs.json");
    assert_eq!(
        pvc_findings(&objects, now),
        set(&[
            "pvcUsage: PersistentVolumeClaim default/data-nomadic-hare-mariadb-0 used=2.43%",
            "pvcUsage: PersistentVolumeClaim default/guiding-pronghorn-mysql used=2.87%",
            "pvcUsage: PersistentVolumeClaim default/nomadic-hare-wordpress used=0.68%",
            "pvcUsage: PersistentVolumeClaim default/pvc-azurefile used=0.04%",
        ])
    );
}

#[test]
fn minikube_summary_volumes_without_claims_are_never_claims() {
    let (objects, now) = load("g-kubelet-summary/NEGATIVE-minikube-1.32-stats-summary-no-pvc.json");
    assert!(pvc_findings(&objects, now).is_empty());
}

#[test]
fn windows_fragment_with_zero_inodes_is_checked_by_bytes_only() {
    let raw = std::fs::read_to_string(
        realworld_dir().join("g-kubelet-summary/aks-windows-pvc-volume-FRAGMENT.txt"),
    )
    .expect("fragment");
    // The fragment is a `"volume": [...],` slice cut out of a summary: put it back into one.
    let body: String = raw
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let body = body.trim().trim_end_matches(',');
    let text = format!(
        "{{\"node\": {{\"nodeName\": \"akswin000000\"}}, \"pods\": [{{\"podRef\": {{\"name\": \"statefulset-azuredisk-win-0\", \"namespace\": \"default\"}}, {body}}}]}}"
    );
    let objects = objects(Path::new("windows-summary.json"), &text);
    let ctx_now = reference_time(&raw);
    assert!(
        run(&all_detectors(), &objects, ctx_now).is_empty(),
        "0.09% is not nearly full"
    );
    assert_eq!(
        pvc_findings(&objects, ctx_now),
        set(&[
            "pvcUsage: PersistentVolumeClaim default/persistent-storage-statefulset-azuredisk-win-0 used=0.09%"
        ])
    );
    let inodes_only = run(
        &[detector(
            "pvcUsage: { usedPercent: 100%, inodesUsedPercent: 0% }",
        )],
        &objects,
        ctx_now,
    );
    assert!(
        inodes_only.is_empty(),
        "zero inodes must not count as full (nor divide by zero)"
    );
}

#[test]
fn evictions_name_the_resource_that_ran_short() {
    for file in [
        "d-evicted/flanksource-evicted-memory.yaml",
        "d-evicted/argo-evicted-with-running-containers.yaml",
    ] {
        let (objects, now) = load(file);
        let mut out = rounds::detect::Out::default();
        detector("evicted: {}")
            .imp()
            .detect(&objects[0], &DetectContext { now }, &mut out);
        assert_eq!(out.len(), 1, "{file}");
        assert_eq!(
            out[0].message, "pod was evicted: the node was low on memory",
            "{file}"
        );
        assert_eq!(out[0].evidence.phase.as_deref(), Some("Failed"), "{file}");
    }
}

#[test]
fn oom_kill_long_ago_is_reported_with_a_longer_window() {
    // "historical OOM only": outside the default 6h window, inside a 7-day one.
    let (objects, now) = load("h-healthy/flanksource-oomkilled-long-ago-now-healthy.yaml");
    let week = run(&[detector("oomKilled: { within: 7d }")], &objects, now);
    assert_eq!(week.len(), 1, "{week:?}");
}

#[test]
fn unschedulable_messages_are_kept_as_evidence() {
    let (objects, now) =
        load("f-unschedulable/insights-openshift-router-unschedulable-hostport.yaml");
    let mut out = rounds::detect::Out::default();
    detector("unschedulable: {}")
        .imp()
        .detect(&objects[0], &DetectContext { now }, &mut out);
    assert_eq!(
        out[0].evidence.message.as_deref(),
        Some(
            "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate."
        )
    );
}

#[test]
fn a_missing_owner_is_reported_as_missing_not_guessed() {
    // The guestbook pod's ReplicaSet (old extensions/v1beta1 reference) is not in the dump.
    let (objects, _) = load("c-imagepull/gitops-engine-guestbook-imagepullbackoff.yaml");
    let Object::Pod(pod) = &objects[0] else {
        panic!("a pod")
    };
    let controller = pod.metadata.controller().expect("has an owner reference");
    assert_eq!(controller.api_version, "extensions/v1beta1");
    let owner = rounds::inventory::owners::resolve(
        &rounds::inventory::Index::default(),
        pod.namespace(),
        Some(controller),
    )
    .expect("owner");
    assert_eq!(owner.kind, "ReplicaSet");
    assert_eq!(owner.name, "guestbook-ui-errimagepullbackoff-66cfffb669");
    assert!(!owner.resolved);
}

#[test]
fn the_start_failure_names_the_command_that_cannot_run() {
    let (objects, now) = load("i-start-failure/troubleshoot-init-runcontainererror.yaml");
    assert_eq!(objects.len(), 1, "one pod in the PodList");
    let mut out = rounds::detect::Out::default();
    detector("containerStartFailure: {}").imp().detect(
        &objects[0],
        &DetectContext { now },
        &mut out,
    );
    assert_eq!(
        out[0].message,
        "init container install cannot start (RunContainerError): its command cannot run (exit code 127)"
    );
    let evidence = out[0].evidence.message.as_deref().unwrap_or_default();
    assert!(
        evidence.contains("exec: \"wge\": executable file not found in $PATH"),
        "{evidence}"
    );
}

#[test]
fn every_event_of_the_event_list_is_read() {
    let (objects, _) = load("j-events/troubleshoot-events-imagepull-oomjob-failedscheduling.yaml");
    let events: Vec<&rounds::objects::Event> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Event(e) => Some(&**e),
            _ => None,
        })
        .collect();
    // The README says 19; the file holds 17 items (`grep -c '^- kind: Event'`), all read.
    assert_eq!(events.len(), 17);
    let reasons: BTreeSet<&str> = events.iter().filter_map(|e| e.reason.as_deref()).collect();
    for r in [
        "Failed",
        "BackOff",
        "BackoffLimitExceeded",
        "FailedScheduling",
    ] {
        assert!(reasons.contains(r), "{r} in {reasons:?}");
    }
}

#[test]
fn the_node_oom_fragment_counts_every_kill_and_its_reporter() {
    let (objects, now) = load("j-events/k8s-134490-node-oomkilling-event-FRAGMENT.yaml");
    let mut out = rounds::detect::Out::default();
    detector("nodeOomKilled: {}")
        .imp()
        .detect(&objects[0], &DetectContext { now }, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].occurrences, 1074);
    assert_eq!(out[0].evidence.reporter.as_deref(), Some("kernel-monitor"));
    assert_eq!(
        out[0].message,
        "the kernel of node XXXXXXXXXX killed processes for lack of memory: 1074 time(s) (OOMKilling from kernel-monitor)"
    );
    // Placed in time by its first timestamp, the only one it has: a day later it is old.
    let mut later = rounds::detect::Out::default();
    detector("nodeOomKilled: {}").imp().detect(
        &objects[0],
        &DetectContext {
            now: now + Duration::days(1),
        },
        &mut later,
    );
    assert!(later.is_empty());
}

/// Every pod and controller of every dump, written as JSON, decodes straight from its text to
/// exactly what decoding through `Value` gives (the fast path of large JSON dumps), or is left
/// to that path; and most are taken by it, so the check is not over nothing.
#[test]
fn objects_decoded_from_their_json_text_are_those_decoded_through_value() {
    let dir = realworld_dir();
    let (mut direct, mut left) = (0, 0);
    for sub in std::fs::read_dir(&dir).expect("dir") {
        let sub = sub.expect("entry").path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).expect("dir") {
            let path = f.expect("entry").path();
            let text = substitute_placeholders(&std::fs::read_to_string(&path).expect("read"));
            let docs: Vec<serde_json::Value> = match path.extension().and_then(|e| e.to_str()) {
                Some("json") => vec![serde_json::from_str(&text).expect("json")],
                Some("yaml") => serde_saphyr::from_multiple(&text).expect("yaml"),
                _ => continue,
            };
            let items = docs.into_iter().flat_map(|doc| match doc.get("items") {
                Some(serde_json::Value::Array(items)) => items.clone(),
                _ => vec![doc],
            });
            for item in items {
                let Some(kind) = item.get("kind").and_then(|k| k.as_str()).map(str::to_owned)
                else {
                    continue;
                };
                let json = serde_json::to_vec(&item).expect("json");
                let Some(fast) = rounds::objects::from_text::decode(&json, &kind, None) else {
                    left += 1;
                    continue;
                };
                let slow = match rounds::objects::decode(item) {
                    Ok(Decoded::Object(o)) => o,
                    other => panic!(
                        "{}: taken directly, not through Value: {other:?}",
                        path.display()
                    ),
                };
                assert_eq!(
                    format!("{fast:?}"),
                    format!("{slow:?}"),
                    "{}",
                    path.display()
                );
                direct += 1;
            }
        }
    }
    assert!(
        direct >= 20 && direct > left,
        "{direct} decoded directly, {left} left"
    );
}
