//! The test API server stores Jobs but runs nothing. This plays the Job controller and the
//! kubelet for rounds' Jobs: it sees a new Job, creates its pod (labels and owner as the Job
//! controller sets them), runs the pod's container from the image with podman (through
//! [`super::kubelet`]), stores its combined stdout and stderr as the pod's log, moves the pod
//! through Running to Succeeded or Failed with the exit code, and gives the Job its verdict as
//! `backoffLimit` and `podFailurePolicy` (FailJob on exit codes) say.

use super::kubelet;
use rounds_test_apiserver::TestApiServer;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A pod this controller ran.
#[derive(Debug, Clone)]
pub struct RanPod {
    pub job: String,
    pub pod: String,
    pub exit_code: i32,
    pub log: String,
}

pub struct Controller {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<Vec<RanPod>>>,
}

impl Controller {
    /// Starts watching `namespace` (by polling the store) and running its Jobs' pods with the
    /// service-account token `token`.
    pub fn start(server: Arc<TestApiServer>, namespace: &str, image: String, token: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let namespace = namespace.to_owned();
        let token = token.to_owned();
        // Jobs already in the snapshot (the demo cluster has an evicted round's Job) belong to
        // no one here: only Jobs created while this controller runs are run.
        let before: std::collections::BTreeSet<String> = server
            .objects("batch", "jobs")
            .iter()
            .filter_map(|j| j["metadata"]["uid"].as_str().map(str::to_owned))
            .collect();
        let handle = std::thread::spawn(move || {
            let mut ran: Vec<RanPod> = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                for job in server.objects("batch", "jobs") {
                    if job["metadata"]["namespace"] != namespace.as_str()
                        || finished(&job)
                        || job["metadata"]["uid"]
                            .as_str()
                            .is_some_and(|u| before.contains(u))
                    {
                        continue;
                    }
                    step(&server, &job, &image, &token, &mut ran);
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            ran
        });
        Self {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops and returns every pod it ran.
    pub fn stop(mut self) -> Vec<RanPod> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .map(|h| h.join().expect("the controller thread"))
            .unwrap_or_default()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn finished(job: &Value) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True")
}

/// One decision for a Job: its verdict after the last pod, or its next pod, run to the end.
fn step(server: &TestApiServer, job: &Value, image: &str, token: &str, ran: &mut Vec<RanPod>) {
    let name = job["metadata"]["name"].as_str().expect("name").to_owned();
    let pods: Vec<&RanPod> = ran.iter().filter(|p| p.job == name).collect();
    let spec = &job["spec"];
    if let Some(last) = pods.last() {
        let failures = pods.iter().filter(|p| p.exit_code != 0).count() as i64;
        let verdict = if last.exit_code == 0 {
            Some(("Complete", "Completed"))
        } else if fail_job(spec, last.exit_code) {
            Some(("Failed", "PodFailurePolicy"))
        } else if failures > spec["backoffLimit"].as_i64().unwrap_or(6) {
            Some(("Failed", "BackoffLimitExceeded"))
        } else {
            None
        };
        if let Some((kind, reason)) = verdict {
            let mut job = job.clone();
            let succeeded = pods.iter().filter(|p| p.exit_code == 0).count();
            job["status"] = json!({
                "succeeded": succeeded,
                "failed": failures,
                "conditions": [{"type": kind, "status": "True", "reason": reason}],
            });
            server.insert(job).expect("update the Job's status");
            return;
        }
    }
    let pod = format!("{name}-{}", pods.len() + 1);
    let r = run_pod(server, job, &pod, image, token);
    ran.push(r);
}

/// Whether the Job's podFailurePolicy fails it at once for this exit code.
fn fail_job(spec: &Value, code: i32) -> bool {
    spec["podFailurePolicy"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["action"] == "FailJob")
        .filter_map(|r| r.get("onExitCodes"))
        .any(|c| {
            let listed = c["values"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v.as_i64() == Some(code as i64));
            match c["operator"].as_str() {
                Some("In") => listed,
                Some("NotIn") => !listed,
                _ => false,
            }
        })
}

fn run_pod(server: &TestApiServer, job: &Value, pod: &str, image: &str, token: &str) -> RanPod {
    let job_name = job["metadata"]["name"].as_str().expect("name");
    let namespace = job["metadata"]["namespace"].as_str().expect("namespace");
    let uid = job["metadata"]["uid"].as_str().unwrap_or_default();
    let template = &job["spec"]["template"];
    let mut labels: BTreeMap<String, Value> = template["metadata"]["labels"]
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    for (k, v) in [
        ("job-name", job_name),
        ("batch.kubernetes.io/job-name", job_name),
        ("controller-uid", uid),
        ("batch.kubernetes.io/controller-uid", uid),
    ] {
        labels.insert(k.into(), Value::from(v));
    }
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "Job", "name": job_name, "uid": uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": template["spec"],
        "status": {"phase": "Pending"},
    });
    server.insert(object.clone()).expect("create the pod");

    let spec: k8s_openapi::api::core::v1::PodSpec =
        serde_json::from_value(template["spec"].clone()).expect("a pod spec");
    let prepared = kubelet::prepare(&spec, namespace, server, server, token);
    let mut cmd = prepared.podman(image, &format!("{namespace}-{pod}"), &prepared.args());
    // One pipe for both streams, in the order the container wrote them, as a container log.
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    cmd.stdout(writer.try_clone().expect("pipe"))
        .stderr(writer)
        .stdin(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("podman run");
    drop(cmd);
    let mut log = String::new();
    reader
        .read_to_string(&mut log)
        .expect("the container's output");
    let status = child.wait().expect("podman run ends");
    let exit_code = status.code().unwrap_or(137);
    server.logs().set(namespace, pod, "rounds", &log);

    object["status"] = json!({
        "phase": "Running",
        "containerStatuses": [{"name": "rounds", "ready": true, "restartCount": 0,
            "image": image, "imageID": "", "state": {"running": {}}}],
    });
    server.insert(object.clone()).expect("pod running");
    std::thread::sleep(std::time::Duration::from_millis(300));
    object["status"] = json!({
        "phase": if exit_code == 0 { "Succeeded" } else { "Failed" },
        "containerStatuses": [{"name": "rounds", "ready": false, "restartCount": 0,
            "image": image, "imageID": "",
            "state": {"terminated": {"exitCode": exit_code,
                "reason": if exit_code == 0 { "Completed" } else { "Error" }}}}],
    });
    server.insert(object).expect("pod terminated");
    RanPod {
        job: job_name.to_owned(),
        pod: pod.to_owned(),
        exit_code,
        log,
    }
}
