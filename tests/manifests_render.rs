//! The manifests as `kubectl kustomize` renders them: every object is its Kubernetes type, the
//! pod meets the restricted Pod Security profile, the CronJob cannot pile up rounds, the
//! ConfigMaps hold exactly the bundled playbooks and a valid runner config, and the overlays
//! differ where they should.

mod deploy;

use deploy::{find, render, repo};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PodSpec;
use rounds::playbook::values::CronSchedule;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;

const OVERLAYS: &[&str] = &["overlays/observe", "overlays/remediate", "overlays/shards"];

/// Deserializes into the k8s-openapi type and back: a field the type does not know (a typo, a
/// field of another version) is dropped on the way, so the round trip differs.
fn round_trip<T: DeserializeOwned + Serialize>(object: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(object.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if &back != object {
        return Err(format!(
            "it does not survive a round trip through its type:\nrendered: {object:#}\ntyped:    {back:#}"
        ));
    }
    Ok(())
}

fn check_type(object: &Value) -> Result<(), String> {
    use k8s_openapi::api::{core::v1 as core, rbac::v1 as rbac};
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("v1", "Namespace") => round_trip::<core::Namespace>(object),
        ("v1", "ServiceAccount") => round_trip::<core::ServiceAccount>(object),
        ("v1", "ConfigMap") => round_trip::<core::ConfigMap>(object),
        ("v1", "Secret") => round_trip::<core::Secret>(object),
        ("rbac.authorization.k8s.io/v1", "Role") => round_trip::<rbac::Role>(object),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => round_trip::<rbac::RoleBinding>(object),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => round_trip::<rbac::ClusterRole>(object),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            round_trip::<rbac::ClusterRoleBinding>(object)
        }
        ("batch/v1", "CronJob") => round_trip::<CronJob>(object),
        ("batch/v1", "Job") => round_trip::<k8s_openapi::api::batch::v1::Job>(object),
        _ => Err(format!("unexpected {api_version} {kind}")),
    }
}

#[test]
fn every_rendered_object_is_its_kubernetes_type() {
    for k in OVERLAYS.iter().chain(&["examples"]) {
        for object in render(k) {
            if let Err(e) = check_type(&object) {
                panic!(
                    "{k}: {} {}: {e}",
                    object["kind"], object["metadata"]["name"]
                );
            }
        }
    }
}

#[test]
fn a_misspelt_field_fails_the_type_check() {
    let mut objects = render("overlays/observe");
    let cronjob = objects
        .iter_mut()
        .find(|o| o["kind"] == "CronJob")
        .expect("a CronJob");
    cronjob["spec"]["concurrencyPolicyy"] = Value::from("Forbid");
    assert!(check_type(cronjob).is_err());
}

fn cronjob(objects: &[Value]) -> CronJob {
    serde_json::from_value(find(objects, "CronJob", "rounds").clone()).expect("a CronJob")
}

fn pod_spec(cj: &CronJob) -> PodSpec {
    cj.spec
        .job_template
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .expect("a pod template")
}

/// What the restricted Pod Security Standard (as the PodSecurity admission enforces it) says
/// about a pod spec; empty when it is allowed.
fn restricted_violations(spec: &PodSpec) -> Vec<String> {
    let mut v = Vec::new();
    let pod = spec.security_context.clone().unwrap_or_default();
    for (flag, name) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if flag == Some(true) {
            v.push(format!("{name} is true"));
        }
    }
    const ALLOWED_VOLUMES: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    for vol in spec.volumes.iter().flatten() {
        let as_json = serde_json::to_value(vol).unwrap_or_default();
        for key in as_json.as_object().into_iter().flatten().map(|(k, _)| k) {
            if key != "name" && !ALLOWED_VOLUMES.contains(&key.as_str()) {
                v.push(format!("volume {} is of restricted type {key}", vol.name));
            }
        }
    }
    if pod
        .seccomp_profile
        .as_ref()
        .is_some_and(|s| s.type_ == "Unconfined")
    {
        v.push("the pod's seccompProfile is Unconfined".into());
    }
    if pod.run_as_user == Some(0) {
        v.push("the pod runs as user 0".into());
    }
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        let s = c.security_context.clone().unwrap_or_default();
        let name = &c.name;
        if s.privileged == Some(true) {
            v.push(format!("container {name} is privileged"));
        }
        if s.allow_privilege_escalation != Some(false) {
            v.push(format!(
                "container {name} must set allowPrivilegeEscalation: false"
            ));
        }
        if s.run_as_non_root.or(pod.run_as_non_root) != Some(true) {
            v.push(format!(
                "container {name} must run as non-root (runAsNonRoot: true)"
            ));
        }
        if s.run_as_user == Some(0) {
            v.push(format!("container {name} runs as user 0"));
        }
        let seccomp = s
            .seccomp_profile
            .as_ref()
            .or(pod.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str());
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            v.push(format!(
                "container {name} needs seccompProfile RuntimeDefault or Localhost"
            ));
        }
        let caps = s.capabilities.clone().unwrap_or_default();
        if !caps.drop.iter().flatten().any(|c| c == "ALL") {
            v.push(format!("container {name} must drop ALL capabilities"));
        }
        for add in caps.add.iter().flatten() {
            if add != "NET_BIND_SERVICE" {
                v.push(format!("container {name} adds capability {add}"));
            }
        }
        for p in c.ports.iter().flatten() {
            if p.host_port.is_some_and(|h| h != 0) {
                v.push(format!("container {name} uses a hostPort"));
            }
        }
    }
    v
}

#[test]
fn the_pod_meets_the_restricted_pod_security_profile() {
    for k in OVERLAYS {
        let objects = render(k);
        let spec = pod_spec(&cronjob(&objects));
        assert_eq!(restricted_violations(&spec), Vec::<String>::new(), "{k}");
        // The namespace enforces it, so a change that breaks it cannot start a pod.
        let ns = find(&objects, "Namespace", "rounds");
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
    }
    // The check can fail: the same pod with its securityContext removed violates it.
    let mut spec = pod_spec(&cronjob(&render("overlays/observe")));
    spec.security_context = None;
    spec.containers[0].security_context = None;
    let violations = restricted_violations(&spec);
    assert!(violations.len() >= 3, "{violations:?}");
}

/// The shortest time between two fires of a schedule, over a week.
fn shortest_interval(schedule: &str) -> chrono::Duration {
    let cron: CronSchedule = schedule.parse().expect("a valid schedule");
    let mut t = chrono::DateTime::parse_from_rfc3339("2026-01-08T00:00:00Z")
        .expect("time")
        .to_utc();
    let mut shortest = chrono::Duration::MAX;
    let mut previous: Option<chrono::DateTime<chrono::Utc>> = None;
    for _ in 0..(7 * 24 * 60) {
        let Some(fire) = cron.previous_at_or_before(t) else {
            break;
        };
        if let Some(p) = previous {
            shortest = shortest.min(p - fire);
        }
        previous = Some(fire);
        t = fire - chrono::Duration::seconds(1);
    }
    shortest
}

fn arg_after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

#[test]
fn the_cronjob_cannot_pile_up_rounds() {
    for k in OVERLAYS {
        let objects = render(k);
        let cj = cronjob(&objects);
        let spec = cj.spec.clone();
        let job = spec.job_template.spec.clone().expect("job spec");
        let pod = pod_spec(&cj);
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"), "{k}");
        let interval = shortest_interval(&spec.schedule).num_seconds();
        let starting = spec
            .starting_deadline_seconds
            .expect("startingDeadlineSeconds");
        assert!(starting < interval, "{k}: starting deadline {starting}s");
        let active = job.active_deadline_seconds.expect("activeDeadlineSeconds");
        assert!(
            active < interval,
            "{k}: activeDeadlineSeconds {active} is not shorter than the schedule interval {interval}s"
        );
        // The round's own deadline and its flush fit in the Job's; the flush after SIGTERM
        // fits in the grace period.
        let args = pod.containers[0].args.clone().unwrap_or_default();
        let config = config_of(&objects);
        let secs = |v: &Value| -> i64 {
            let d: rounds::playbook::values::Duration =
                v.as_str().expect("a duration").parse().expect("a duration");
            d.0.as_secs() as i64
        };
        assert!(
            arg_after(&args, "--deadline").is_none(),
            "{k}: the runner config sets the deadline"
        );
        let deadline = secs(&config["job"]["deadline"]);
        let flush = secs(&config["job"]["flushTimeout"]);
        let grace = pod
            .termination_grace_period_seconds
            .expect("a grace period");
        assert!(
            deadline + flush < active,
            "{k}: job.deadline {deadline}s + flushTimeout {flush}s >= activeDeadlineSeconds {active}"
        );
        assert!(
            flush < grace,
            "{k}: flushTimeout {flush}s >= grace {grace}s"
        );
        // Scheduled playbooks get more than one CronJob round to run for a fire.
        assert!(
            secs(&config["job"]["startingDeadline"]) >= 2 * interval,
            "{k}"
        );
        assert!(job.backoff_limit.is_some(), "{k}: backoffLimit");
        assert!(job.ttl_seconds_after_finished.is_some(), "{k}: ttl");
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"), "{k}");
        // Invalid input (1) and a done round with failures (3) are not retried.
        let policy = job.pod_failure_policy.expect("podFailurePolicy");
        let fail_codes: BTreeSet<i32> = policy
            .rules
            .iter()
            .filter(|r| r.action == "FailJob")
            .filter_map(|r| r.on_exit_codes.as_ref())
            .flat_map(|c| c.values.clone())
            .collect();
        assert_eq!(fail_codes, BTreeSet::from([1, 3]), "{k}");
        // The token only in rounds' pod.
        let sa = find(&objects, "ServiceAccount", "rounds");
        assert_eq!(sa["automountServiceAccountToken"], false, "{k}");
        assert_eq!(pod.automount_service_account_token, Some(true), "{k}");
        assert_eq!(pod.service_account_name.as_deref(), Some("rounds"), "{k}");
        let resources = pod.containers[0].resources.clone().expect("resources");
        let requests = resources.requests.expect("requests");
        let limits = resources.limits.expect("limits");
        assert!(
            requests.contains_key("cpu") && requests.contains_key("memory"),
            "{k}"
        );
        assert!(limits.contains_key("memory"), "{k}");
        // The image is this version's.
        let image = pod.containers[0].image.clone().expect("image");
        assert!(
            image.ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))),
            "{k}: {image}"
        );
    }
}

/// The files of the ConfigMap named `name`, laid out as the kubelet mounts them.
fn mounted(objects: &[Value], name: &str, dir: &std::path::Path) -> deploy::kubelet::Files {
    let files = deploy::kubelet::config_map_files(find(objects, "ConfigMap", name));
    deploy::kubelet::atomic_volume(dir, &files, 0o644, None);
    files
}

#[test]
fn the_configmaps_hold_the_bundled_playbooks_and_a_valid_config() {
    let mut on_disk: Vec<(String, Vec<u8>)> = std::fs::read_dir(repo("playbooks"))
        .expect("playbooks/")
        .map(|e| e.expect("entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    on_disk.sort();
    for k in OVERLAYS {
        let objects = render(k);
        let tmp = tempfile::tempdir().expect("tmp");
        let playbooks = mounted(&objects, "rounds-playbooks", &tmp.path().join("playbooks"));
        let in_map: Vec<(String, Vec<u8>)> = playbooks.into_iter().collect();
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&in_map),
            names(&on_disk),
            "{k}: the ConfigMap rounds-playbooks must hold every playbook: list each file in playbooks/Kustomization"
        );
        assert!(in_map == on_disk, "{k}: playbooks differ from playbooks/");
        mounted(&objects, "rounds-config", &tmp.path().join("config"));
        // rounds reads both as mounted: through the ..data symlinks.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
            .arg("validate")
            .arg(tmp.path().join("playbooks"))
            .arg(tmp.path().join("config/config.yaml"))
            .output()
            .expect("run rounds validate");
        assert!(
            out.status.success(),
            "{k}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn config_of(objects: &[Value]) -> Value {
    let text = find(objects, "ConfigMap", "rounds-config")["data"]["config.yaml"]
        .as_str()
        .expect("config.yaml")
        .to_owned();
    serde_saphyr::from_str(&text).expect("YAML")
}

#[test]
fn the_pod_mounts_what_the_config_names() {
    for k in OVERLAYS {
        let objects = render(k);
        let pod = pod_spec(&cronjob(&objects));
        let c = &pod.containers[0];
        let mount = |volume: &str| {
            c.volume_mounts
                .iter()
                .flatten()
                .find(|m| m.name == volume)
                .map(|m| {
                    assert_eq!(
                        m.read_only,
                        Some(true),
                        "{k}: {volume} is mounted read-only"
                    );
                    m.mount_path.clone()
                })
                .unwrap_or_else(|| panic!("{k}: no mount of {volume}"))
        };
        let args = c.args.clone().unwrap_or_default();
        let config_path = arg_after(&args, "--config").expect("--config");
        assert_eq!(
            config_path,
            format!("{}/config.yaml", mount("config")),
            "{k}"
        );
        let config = config_of(&objects);
        assert_eq!(
            config["playbooks"],
            serde_json::json!([mount("playbooks")]),
            "{k}"
        );
        assert_eq!(config["secretsDir"], mount("secrets"), "{k}");
        // The volumes name the generated (hash-suffixed) ConfigMaps, so a change rolls out.
        for v in pod.volumes.iter().flatten() {
            if let Some(cm) = &v.config_map {
                find(&objects, "ConfigMap", &cm.name);
                assert!(cm.name.len() > "rounds-config-".len(), "{k}: {}", cm.name);
            }
        }
    }
}

/// (apiGroup, resource, verb) of every rule of the rendered Roles and ClusterRoles, with the
/// namespace a Role grants in (None: cluster-wide).
fn grants(objects: &[Value]) -> BTreeSet<(Option<String>, String, String, String)> {
    let mut out = BTreeSet::new();
    for o in objects {
        let scope = match o["kind"].as_str() {
            Some("ClusterRole") => None,
            Some("Role") => Some(o["metadata"]["namespace"].as_str().unwrap_or("").to_owned()),
            _ => continue,
        };
        for rule in o["rules"].as_array().into_iter().flatten() {
            for g in rule["apiGroups"].as_array().into_iter().flatten() {
                for r in rule["resources"].as_array().into_iter().flatten() {
                    for v in rule["verbs"].as_array().into_iter().flatten() {
                        out.insert((
                            scope.clone(),
                            g.as_str().unwrap_or("").to_owned(),
                            r.as_str().unwrap_or("").to_owned(),
                            v.as_str().unwrap_or("").to_owned(),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn observe_is_read_only_and_dry_run_remediate_applies() {
    let observe = render("overlays/observe");
    assert_eq!(config_of(&observe)["mode"], "dryRun");
    for (ns, group, resource, verb) in grants(&observe) {
        let read = matches!(verb.as_str(), "get" | "list" | "watch");
        let access_review = group == "authorization.k8s.io" && verb == "create";
        // rounds' own state (ledger, lease) lives in its namespace only.
        let own_state = ns.as_deref() == Some("rounds");
        assert!(
            read || access_review || own_state,
            "observe grants {verb} on {group}/{resource} cluster-wide"
        );
        assert!(
            !verb.contains('*') && !resource.contains('*'),
            "no wildcards"
        );
    }
    let remediate = render("overlays/remediate");
    assert_eq!(config_of(&remediate)["mode"], "apply");
    // Everything observe grants, remediate grants too.
    let (o, r) = (grants(&observe), grants(&remediate));
    assert!(
        o.is_subset(&r),
        "{:?}",
        o.difference(&r).collect::<Vec<_>>()
    );
    for (_, _, resource, verb) in &r {
        assert!(
            !verb.contains('*') && !resource.contains('*'),
            "no wildcards"
        );
    }
}

/// Tests that load RBAC from the files under manifests/ (`ServerConfig::rbac("manifests")`)
/// must see the roles the overlays render.
#[test]
fn the_raw_files_grant_what_the_rendered_overlays_grant() {
    let raw: Vec<Value> = ["base", "overlays/remediate", "overlays/observe"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(repo("manifests").join(d))
                .expect("dir")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .flat_map(|p| {
                    let text = std::fs::read_to_string(&p).expect("read");
                    serde_saphyr::from_multiple::<Value>(&text).expect("YAML")
                })
                .collect::<Vec<_>>()
        })
        .filter(|o| o["apiVersion"] == "rbac.authorization.k8s.io/v1")
        .collect();
    let rendered: Vec<Value> = OVERLAYS.iter().flat_map(|k| render(k)).collect();
    assert_eq!(grants(&raw), grants(&rendered));
    let bindings = |objects: &[Value]| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| o["kind"].as_str().is_some_and(|k| k.ends_with("Binding")))
            .map(|o| {
                format!(
                    "{} {} {} {}",
                    o["metadata"]["namespace"], o["metadata"]["name"], o["roleRef"], o["subjects"]
                )
            })
            .collect()
    };
    assert_eq!(bindings(&raw), bindings(&rendered));
}

#[test]
fn the_example_secret_holds_only_placeholders() {
    let objects = render("examples");
    let secret = find(&objects, "Secret", "rounds-secrets");
    assert_eq!(secret["metadata"]["namespace"], "rounds");
    let files = deploy::kubelet::secret_files(secret);
    assert!(!files.is_empty());
    for (key, value) in files {
        let value = String::from_utf8(value).expect("text");
        assert!(value.contains("REPLACE"), "{key} looks like a real secret");
    }
    // The overlays never carry it, so applying them cannot overwrite a real Secret.
    for k in OVERLAYS {
        assert!(render(k).iter().all(|o| o["kind"] != "Secret"), "{k}");
    }
}

/// Every `*File` value of a YAML document (the secret files a runner config names).
fn secret_file_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(file) if k.ends_with("File") => {
                        out.insert(file.to_owned());
                    }
                    _ => secret_file_names(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| secret_file_names(v, out)),
        _ => {}
    }
}

#[test]
fn the_example_config_names_exactly_the_example_secrets_keys() {
    let path = repo("manifests/examples/config.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("validate")
        .arg(&path)
        .output()
        .expect("rounds validate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("read")).expect("YAML");
    let mut named = BTreeSet::new();
    secret_file_names(&config, &mut named);
    let keys: BTreeSet<String> =
        deploy::kubelet::secret_files(find(&render("examples"), "Secret", "rounds-secrets"))
            .into_keys()
            .collect();
    assert!(named.len() >= 5, "{named:?}");
    assert_eq!(named, keys);
    // It is the overlays' config plus notifications and the metrics push.
    let mut base = config_of(&render("overlays/observe"));
    base["notifications"] = config["notifications"].clone();
    base["metrics"] = config["metrics"].clone();
    assert_eq!(base, config);
}

#[test]
fn the_shards_overlay_is_an_indexed_job_whose_pods_know_the_count() {
    let objects = render("overlays/shards");
    let cj = cronjob(&objects);
    let job = cj.spec.job_template.spec.clone().expect("job spec");
    assert_eq!(job.completion_mode.as_deref(), Some("Indexed"));
    let completions = job.completions.expect("completions");
    assert!(completions > 1);
    assert_eq!(
        job.parallelism,
        Some(completions),
        "every shard runs at once"
    );
    let pod = pod_spec(&cj);
    let env = pod.containers[0].env.clone().unwrap_or_default();
    let count = env
        .iter()
        .find(|e| e.name == rounds::shard::COUNT_ENV)
        .and_then(|e| e.value.clone())
        .expect("ROUNDS_SHARDS");
    assert_eq!(count, completions.to_string());
    // Each index is a valid shard of that count, as the binary reads it.
    for index in 0..completions {
        let shard = rounds::shard::Shard::from_values(Some(&count), Some(&index.to_string()))
            .expect("a valid shard");
        assert_eq!(
            (shard.index, shard.count),
            (index as u32, completions as u32)
        );
    }
    // The rest is the observe overlay.
    let observe = render("overlays/observe");
    assert_eq!(config_of(&objects), config_of(&observe));
    assert_eq!(grants(&objects), grants(&observe));
}
