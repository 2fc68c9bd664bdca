#!/usr/bin/env python3
"""Generate a big, realistic Kubernetes cluster snapshot for benchmarking `rounds`.

The output is ONE `kind: List` document shaped like what

    kubectl get pods,nodes,pvc,deploy,rs,sts,ds,jobs,cronjobs,pdb,events,ns,storageclass -A -o yaml|json

prints: items grouped by resource type in that order, each group sorted by namespace/name
(etcd order), keys sorted alphabetically, managedFields included, kubectl's YAML quoting and
line folding. Most pods are healthy; a small, fixed share is OOMKilled, crash-looping, failing
to pull images, evicted or unschedulable, so detectors have something to find.

Standard library only (no PyYAML): YAML is written by a small emitter below that follows what
go-yaml v2 (used by kubectl) does. The same --seed gives the same cluster in both formats.

The reference time ("now" of the snapshot) goes to stderr as `reference-time: <RFC 3339>`;
pass it to `rounds plan --now` so time windows (oomKilled within 6h...) match the data.
"""

import argparse
import datetime as dt
import json
import random
import re
import sys
import uuid

# A whole hour, so hourly playbooks (evicted-cleanup: "0 * * * *") are due at this time.
DEFAULT_NOW = "2025-06-02T12:00:00Z"

# How the broken pods split between states (weights; the rest of the pods are healthy). The
# whole broken share is --broken (default 2%), plus a few unschedulable pods and one crash
# loop in kube-system.
BROKEN_WEIGHTS = {"oom": 5, "crashloop": 5, "imagepull": 2, "evicted": 2}
DEFAULT_BROKEN = 0.02

# Kubernetes' rand.String / SafeEncodeString alphabet (no vowels, no confusable digits).
K8S_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

NAMESPACE_WORDS = [
    "payments", "checkout", "catalog", "search", "accounts", "billing", "shipping", "inventory",
    "orders", "pricing", "reviews", "recommendations", "notifications", "identity", "gateway",
    "analytics", "reporting", "ledger", "fraud", "loyalty", "marketing", "media", "messaging",
    "onboarding", "partners", "profiles", "promotions", "ratings", "returns", "risk", "sessions",
    "subscriptions", "support", "tax", "tracking", "wallet", "warehouse", "data-platform",
    "ml-serving", "feature-store", "monitoring", "logging", "ingress", "cert-manager", "argocd",
    "vault",
]
SYSTEM_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]
APP_NOUNS = [
    "cart", "order", "user", "price", "stock", "invoice", "refund", "quote", "label", "route",
    "event", "audit", "token", "session", "image", "thumb", "feed", "mail", "sms", "push",
    "rank", "score", "match", "geo", "tax", "fx", "ledger", "report", "export", "import",
    "sync", "cache", "config", "flag", "vendor", "media", "search", "index", "review", "promo",
]
APP_ROLES = ["api", "worker", "web", "consumer", "scheduler", "grpc", "gateway", "processor",
             "indexer", "frontend", "backend", "sink"]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
INSTANCE_TYPES = [("m6i.4xlarge", 16, 64), ("m6i.8xlarge", 32, 128), ("r6i.4xlarge", 16, 128),
                  ("c6i.8xlarge", 32, 64)]
CPU_REQUESTS = ["50m", "100m", "100m", "250m", "250m", "500m", "1"]
MEM_REQUESTS = ["64Mi", "128Mi", "256Mi", "256Mi", "512Mi", "512Mi", "1Gi", "2Gi"]
MEM_LIMIT_FOR = {"64Mi": "128Mi", "128Mi": "256Mi", "256Mi": "512Mi", "512Mi": "1Gi",
                 "1Gi": "2Gi", "2Gi": "4Gi"}


# ---------------------------------------------------------------------------------------------
# YAML emitter in kubectl's style (go-yaml v2): sorted keys, block style, sequences not indented
# under their key, `{}`/`[]` for empties, strings quoted only when needed and folded at 80 cols.
# ---------------------------------------------------------------------------------------------

# Strings go-yaml would resolve to something else (bool, null, number, timestamp): double-quoted.
_NON_STRING = re.compile(
    r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+
        |[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$""",
    re.VERBOSE,
)
# Characters that may not start a plain scalar, and sequences that may not appear in one.
_BAD_FIRST = set(",[]{}#&*!|>'\"%@` ")
_PLAIN_OK = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_FOLD_WIDTH = 80


def _quote_style(s):
    """'' (plain), "'" (single-quoted) or '"' (double-quoted), as go-yaml v2 chooses."""
    if s == "" or _NON_STRING.match(s):
        return '"'
    if not _PLAIN_OK.match(s):
        # Leading/trailing space or non-printable: single quotes carry spaces, not controls.
        return "'" if all(" " <= c <= "~" for c in s) else '"'
    first, second = s[0], s[1:2]
    if first in "-?:":
        # These start a plain scalar only when followed by a non-space ("--flag", "-1h").
        if second in ("", " ") or s.startswith("---"):
            return "'"
    elif first in _BAD_FIRST:
        return "'"
    if ": " in s or " #" in s or s.endswith(":"):
        return "'"
    return ""


def yaml_scalar(v):
    """A scalar as a YAML token, without folding (keys and short values)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    style = _quote_style(v)
    if style == "":
        return v
    if style == "'":
        return "'" + v.replace("'", "''") + "'"
    return json.dumps(v)


def _fold(text, col, indent):
    """Breaks a plain or single-quoted scalar at spaces past column 80, like libyaml does.

    A space is replaced by a line break when the line is already longer than 80 columns, the
    space is neither the first nor the last character, and neither neighbour is a space.
    """
    if col + len(text) <= _FOLD_WIDTH + 1 or " " not in text:
        return text
    quoted = text[0] == "'"
    first, last = (1, len(text) - 2) if quoted else (0, len(text) - 1)
    out = []
    column = col
    n = len(text)
    for i, c in enumerate(text):
        if (c == " " and column > _FOLD_WIDTH and first < i < last
                and text[i - 1] != " " and i + 1 < n and text[i + 1] != " "):
            out.append("\n" + indent)
            column = len(indent)
            continue
        out.append(c)
        column += 1
    return "".join(out)


def yaml_block(obj, out, ind, first_prefix=None):
    """Appends the block-style lines of a non-empty dict or list to `out`.

    `ind` is the indentation of this node's lines; `first_prefix`, when given, replaces the
    indentation of the first line (used for `- ` of sequence items).
    """
    prefix = ind if first_prefix is None else first_prefix
    if isinstance(obj, dict):
        for k in sorted(obj):
            v = obj[k]
            key = prefix + yaml_scalar(k) + ":"
            prefix = ind
            if isinstance(v, dict):
                if v:
                    out.append(key)
                    yaml_block(v, out, ind + "  ")
                else:
                    out.append(key + " {}")
            elif isinstance(v, list):
                if v:
                    out.append(key)
                    yaml_block(v, out, ind)  # kubectl does not indent sequences under a key
                else:
                    out.append(key + " []")
            elif isinstance(v, str) and len(v) + len(key) > _FOLD_WIDTH - 1:
                out.append(key + " " + _fold(yaml_scalar(v), len(key) + 1, ind + "  "))
            else:
                out.append(key + " " + yaml_scalar(v))
        return
    item_ind = ind + "  "
    for item in obj:
        if isinstance(item, (dict, list)) and item:
            yaml_block(item, out, item_ind, prefix + "- ")
        elif isinstance(item, dict):
            out.append(prefix + "- {}")
        elif isinstance(item, list):
            out.append(prefix + "- []")
        else:
            out.append(prefix + "- " + yaml_scalar(item))
        prefix = ind


# ---------------------------------------------------------------------------------------------
# Small helpers for realistic values.
# ---------------------------------------------------------------------------------------------

class Ctx:
    """Random source, reference time and the cluster-wide resourceVersion counter."""

    def __init__(self, seed, now):
        self.rng = random.Random(seed)
        self.now = now
        self.rv = 48_000_000

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n):
        return "".join(self.rng.choice(K8S_ALPHABET) for _ in range(n))

    def hex(self, nbytes):
        return "%0*x" % (nbytes * 2, self.rng.getrandbits(nbytes * 8))

    def resource_version(self):
        self.rv += self.rng.randint(1, 40)
        return str(self.rv)

    def ago(self, seconds):
        return self.now - dt.timedelta(seconds=seconds)


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# managedFields: list keys Kubernetes uses to name items of keyed lists (`k:{...}`).
LIST_KEYS = {
    "containers": ("name",), "initContainers": ("name",), "env": ("name",),
    "ports": ("containerPort", "protocol"), "volumeMounts": ("mountPath",),
    "volumes": ("name",), "ownerReferences": ("uid",), "conditions": ("type",),
    "podIPs": ("ip",), "hostIPs": ("ip",), "addresses": ("type",),
}


def fieldset(value, name=None, top=False):
    """The FieldsV1 set of an object part: `f:` per field, `k:{...}` per keyed list item."""
    if isinstance(value, dict):
        fs = {} if (top or not value) else {".": {}}
        for k, v in value.items():
            fs["f:" + k] = fieldset(v, k)
        return fs
    if isinstance(value, list):
        keys = LIST_KEYS.get(name)
        if keys and value and isinstance(value[0], dict):
            # The API server records no `.` for these two lists (they always exist).
            fs = {} if name in ("containers", "conditions") else {".": {}}
            for item in value:
                key = json.dumps({k: item[k] for k in keys}, separators=(",", ":"), sort_keys=True)
                fs["k:" + key] = fieldset(item)
            return fs
    return {}


def managed(manager, when, fields, subresource=None, api_version="v1"):
    entry = {"apiVersion": api_version, "fieldsType": "FieldsV1", "fieldsV1": fields,
             "manager": manager, "operation": "Update", "time": ts(when)}
    if subresource:
        entry["subresource"] = subresource
    return entry


# ---------------------------------------------------------------------------------------------
# The cluster model: cheap records first (so every list can be sorted like etcd returns it),
# full objects built one at a time while writing.
# ---------------------------------------------------------------------------------------------

class Node:
    def __init__(self, c, i):
        self.i = i
        self.ip = f"10.{i // 64516}.{(i // 254) % 254 + 16}.{i % 254 + 1}"
        self.name = f"ip-{self.ip.replace('.', '-')}.ec2.internal"
        self.zone = ZONES[i % len(ZONES)]
        self.instance = c.rng.choice(INSTANCE_TYPES)
        self.pod_cidr = f"100.{64 + (i // 256) % 64}.{i % 256}.0/24"
        self.pods_placed = 0
        self.uid = c.uid()
        self.created = c.ago(c.rng.randint(2 * 86400, 60 * 86400))
        self.disk_pressure = False
        self.not_ready = False

    def next_pod_ip(self):
        self.pods_placed += 1
        base = self.pod_cidr.rsplit(".", 1)[0]
        return f"{base}.{(self.pods_placed - 1) % 254 + 1}"


class Workload:
    """A Deployment (with its ReplicaSets), StatefulSet, DaemonSet or Job: enough to make pods."""

    def __init__(self, c, kind, ns, name, replicas, system=False):
        self.kind = kind
        self.ns = ns
        self.name = name
        self.replicas = replicas
        self.system = system
        self.uid = c.uid()
        self.created = c.ago(c.rng.randint(3 * 86400, 200 * 86400))
        self.hash = c.suffix(10) if kind == "Deployment" else c.suffix(9)
        self.rs_uid = c.uid()
        self.rs_created = c.ago(c.rng.randint(3600, int((c.now - self.created).total_seconds())))
        self.old_rs = c.rng.random() < 0.5 and kind == "Deployment"
        self.old_hash = c.suffix(10)
        self.old_rs_uid = c.uid()
        self.revision = c.rng.randint(2, 30) if self.old_rs else 1
        rng = c.rng
        # App Deployments are named noun-role[-suffix]; the main container is named for the role.
        self.main = name.split("-")[1] if kind == "Deployment" and not system else name
        self.version = f"{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}"
        self.image = f"registry.example.com/{ns}/{name}:{self.version}"
        self.image_id = f"registry.example.com/{ns}/{name}@sha256:{c.hex(32)}"
        self.cpu = rng.choice(CPU_REQUESTS)
        self.mem = rng.choice(MEM_REQUESTS)
        self.guaranteed = rng.random() < 0.15
        self.mem_limit = self.mem if self.guaranteed else MEM_LIMIT_FOR[self.mem]
        self.sidecar = rng.random() < 0.25
        self.config = rng.random() < 0.5
        self.metrics = rng.random() < 0.6
        self.env_extra = rng.randint(0, 5)
        self.pdb = False
        self.failed = False  # Jobs only
        self.cronjob = None  # Jobs only: the owning CronJob record


class PodRec:
    __slots__ = ("ns", "name", "owner", "node", "problem", "ordinal")

    def __init__(self, ns, name, owner, node, problem=None, ordinal=None):
        self.ns, self.name, self.owner, self.node = ns, name, owner, node
        self.problem, self.ordinal = problem, ordinal


def plan_cluster(c, n_pods, n_nodes, broken):
    rng = c.rng
    nodes = [Node(c, i) for i in range(n_nodes)]
    # A couple of nodes under disk pressure, one that stopped reporting.
    for node in rng.sample(nodes, min(2, len(nodes))):
        node.disk_pressure = True
    if len(nodes) > 10:
        rng.choice([n for n in nodes if not n.disk_pressure]).not_ready = True

    n_app_ns = max(1, min(len(NAMESPACE_WORDS), n_pods // 1000 or 1))
    app_ns = sorted(NAMESPACE_WORDS[:n_app_ns])
    namespaces = sorted(SYSTEM_NAMESPACES + app_ns)
    workloads, pods, cronjobs = [], [], []
    budget = n_pods

    def add_pods(w, count, node_of=None):
        nonlocal budget
        for k in range(count):
            if w.kind == "StatefulSet":
                name, ordinal = f"{w.name}-{k}", k
            else:
                name, ordinal = f"{w.name}-{w.hash}-{c.suffix(5)}" if w.kind == "Deployment" \
                    else f"{w.name}-{c.suffix(5)}", None
            node = node_of(k) if node_of else rng.randrange(len(nodes))
            pods.append(PodRec(w.ns, name, w, node, ordinal=ordinal))
        budget -= count

    # kube-system: two DaemonSets on every node, CoreDNS and metrics-server (when they fit).
    if 2 * len(nodes) <= n_pods // 4:
        for ds in ("aws-node", "kube-proxy"):
            w = Workload(c, "DaemonSet", "kube-system", ds, len(nodes), system=True)
            workloads.append(w)
            add_pods(w, len(nodes), node_of=lambda k: k)
    if budget > 20:
        for name, replicas in (("coredns", 2), ("metrics-server", 1)):
            w = Workload(c, "Deployment", "kube-system", name, replicas, system=True)
            workloads.append(w)
            add_pods(w, replicas)

    # A few StatefulSets (with claims) and CronJobs (with Jobs, one failed) in app namespaces.
    if budget > 200:
        for ns in app_ns[:: max(1, len(app_ns) // 5)][:5]:
            w = Workload(c, "StatefulSet", ns, "postgres", 3)
            workloads.append(w)
            add_pods(w, 3)
        for i, ns in enumerate(app_ns[:3]):
            cj = Workload(c, "CronJob", ns, ["db-backup", "nightly-report", "cleanup"][i], 0)
            cj.schedule = ["0 2 * * *", "30 1 * * *", "*/30 * * * *"][i]
            cronjobs.append(cj)
            workloads.append(cj)
            for run in range(3):
                fire = c.now - dt.timedelta(days=run, hours=rng.randint(1, 9))
                minutes = int(fire.timestamp() // 60)
                job = Workload(c, "Job", ns, f"{cj.name}-{minutes}", 1)
                job.cronjob, job.created = cj, fire
                job.failed = i == 0 and run == 0
                workloads.append(job)
                add_pods(job, 2 if job.failed else 1)

    # Everything else: Deployments of about 10 pods across the app namespaces.
    used = set()
    deployments = []
    while budget > 0:
        ns = rng.choice(app_ns)
        base = f"{rng.choice(APP_NOUNS)}-{rng.choice(APP_ROLES)}"
        name = base
        while (ns, name) in used:
            name = f"{base}-{c.suffix(3)}"
        used.add((ns, name))
        replicas = min(budget, max(1, int(rng.triangular(2, 20, 8))))
        w = Workload(c, "Deployment", ns, name, replicas)
        workloads.append(w)
        deployments.append(w)
        add_pods(w, replicas)
    for ns in app_ns:  # a PodDisruptionBudget for one Deployment per namespace
        mine = [d for d in deployments if d.ns == ns]
        if mine:
            mine[0].pdb = True

    mark_problems(c, pods, deployments, n_pods, broken)
    pods.sort(key=lambda p: (p.ns, p.name))
    return nodes, namespaces, workloads, pods, cronjobs


def mark_problems(c, pods, deployments, n_pods, broken):
    rng = c.rng
    total = sum(BROKEN_WEIGHTS.values())
    share = {k: broken * w / total for k, w in BROKEN_WEIGHTS.items()}
    app = [p for p in pods if p.owner.kind == "Deployment" and not p.owner.system]
    by_owner = {}
    for p in app:
        by_owner.setdefault(id(p.owner), []).append(p)
    # OOM kills cluster by workload (a limit that is too low hits every replica), which is also
    # what oomKilled's minCount: 2 per owner needs.
    want = round(n_pods * share["oom"])
    owners = [d for d in deployments if d.replicas >= 2]
    rng.shuffle(owners)
    for d in owners:
        if want <= 0:
            break
        mine = by_owner[id(d)]
        for p in rng.sample(mine, min(len(mine), rng.randint(2, 4), want)):
            p.problem = "oom"
            want -= 1
    healthy = [p for p in app if p.problem is None]
    rng.shuffle(healthy)
    for problem in ("crashloop", "imagepull", "evicted"):
        for _ in range(round(n_pods * share[problem])):
            if healthy:
                healthy.pop().problem = problem
    for _ in range(max(3, n_pods // 10000)):
        if healthy:
            healthy.pop().problem = "unschedulable"
    # One crash loop in kube-system: playbooks exclude kube-*, so it must not be reported.
    system = [p for p in pods if p.ns == "kube-system" and p.owner.kind == "DaemonSet"]
    if system:
        rng.choice(system).problem = "crashloop"


# ---------------------------------------------------------------------------------------------
# Object builders.
# ---------------------------------------------------------------------------------------------

def container_spec(w, name=None):
    """The main container of a workload's pod template."""
    port = 8080
    env = [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "PORT", "value": str(port)},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                        "fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                             "fieldPath": "metadata.namespace"}}},
    ]
    extra = [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"key": "url",
                                                                "name": f"{w.name}-db"}}},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring:4317"},
        {"name": "FEATURE_FLAGS", "value": "new-checkout,async-export"},
        {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"divisor": "0",
                                                                  "resource": "limits.cpu"}}},
        {"name": "CACHE_TTL", "value": "300s"},
    ]
    env += extra[: w.env_extra]
    ports = [{"containerPort": port, "name": "http", "protocol": "TCP"}]
    if w.metrics:
        ports.append({"containerPort": 9090, "name": "metrics", "protocol": "TCP"})
    limits = {"memory": w.mem_limit}
    if w.guaranteed:
        limits["cpu"] = w.cpu
    probe = {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": "http",
                                                "scheme": "HTTP"},
             "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}
    spec = {
        "env": env,
        "image": w.image,
        "imagePullPolicy": "IfNotPresent",
        "livenessProbe": probe,
        "name": name or w.main,
        "ports": ports,
        "readinessProbe": dict(probe, httpGet=dict(probe["httpGet"], path="/ready")),
        "resources": {"limits": limits, "requests": {"cpu": w.cpu, "memory": w.mem}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 10001},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if w.config:
        spec["volumeMounts"] = [{"mountPath": "/etc/app", "name": "config", "readOnly": True}]
    return spec


def sidecar_spec():
    return {
        "args": ["--config=/fluent-bit/etc/fluent-bit.conf"],
        "image": "cr.fluentbit.io/fluent/fluent-bit:2.2.2",
        "imagePullPolicy": "IfNotPresent",
        "name": "log-shipper",
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "20m", "memory": "64Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/var/log/app", "name": "logs"}],
    }


def template_containers(w):
    if w.kind == "DaemonSet":
        return [{
            "command": [f"/usr/local/bin/{w.name}", "--v=2"],
            "image": f"602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/{w.name}:v1.29.3",
            "imagePullPolicy": "IfNotPresent",
            "name": w.name,
            "resources": {"requests": {"cpu": "25m"}},
            "securityContext": {"privileged": True},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": [{"mountPath": "/lib/modules", "name": "lib-modules",
                              "readOnly": True}],
        }]
    containers = [container_spec(w)]
    if w.sidecar:
        containers.append(sidecar_spec())
    return containers


def template_volumes(w):
    vols = []
    if w.kind == "DaemonSet":
        return [{"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"}]
    if w.config:
        vols.append({"configMap": {"defaultMode": 420, "name": f"{w.name}-config"},
                     "name": "config"})
    if w.sidecar:
        vols.append({"emptyDir": {}, "name": "logs"})
    return vols


def pod_labels(w, pod):
    if w.kind == "Deployment":
        return {"app": w.name, "pod-template-hash": w.hash}
    if w.kind == "StatefulSet":
        return {"app": w.name, "apps.kubernetes.io/pod-index": str(pod.ordinal),
                "controller-revision-hash": f"{w.name}-{w.hash}",
                "statefulset.kubernetes.io/pod-name": pod.name}
    if w.kind == "DaemonSet":
        return {"controller-revision-hash": w.hash, "k8s-app": w.name,
                "pod-template-generation": "1"}
    return {"batch.kubernetes.io/controller-uid": w.uid, "batch.kubernetes.io/job-name": w.name,
            "controller-uid": w.uid, "job-name": w.name}


def owner_ref(w):
    if w.kind == "Deployment":
        return {"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                "kind": "ReplicaSet", "name": f"{w.name}-{w.hash}", "uid": w.rs_uid}
    api = "batch/v1" if w.kind == "Job" else "apps/v1"
    return {"apiVersion": api, "blockOwnerDeletion": True, "controller": True, "kind": w.kind,
            "name": w.name, "uid": w.uid}


def cond(kind, status, when, reason=None, message=None):
    c = {"lastProbeTime": None, "lastTransitionTime": ts(when), "status": status, "type": kind}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def make_pod(c, p, nodes):
    rng = c.rng
    w = p.owner
    node = nodes[p.node]
    created = max(w.rs_created, c.ago(rng.randint(600, 30 * 86400)))
    if w.kind == "Job":
        created = w.created + dt.timedelta(seconds=rng.randint(0, 5))
    if p.problem == "unschedulable":
        created = c.ago(rng.randint(20 * 60, 3 * 3600))
    started = created + dt.timedelta(seconds=rng.randint(1, 3))
    running_since = started + dt.timedelta(seconds=rng.randint(4, 40))
    uid = c.uid()
    sa_volume = f"kube-api-access-{c.suffix(5)}"

    containers = template_containers(w)
    kcm_spec = {"containers": containers, "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": True,
                "restartPolicy": "Never" if w.kind == "Job" else "Always",
                "schedulerName": "default-scheduler", "securityContext": {},
                "terminationGracePeriodSeconds": 30}
    volumes = template_volumes(w)
    if w.kind == "StatefulSet":
        kcm_spec["hostname"] = p.name
        kcm_spec["subdomain"] = w.name
        volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{p.name}"}}]
    if volumes:
        kcm_spec["volumes"] = volumes
    meta = {"generateName": f"{w.name}-{w.hash}-" if w.kind == "Deployment" else f"{w.name}-",
            "labels": pod_labels(w, p), "ownerReferences": [owner_ref(w)]}
    if w.kind == "StatefulSet":
        del meta["generateName"]
    managed_fields = [managed("kube-controller-manager", created,
                              {"f:metadata": fieldset(meta, top=True),
                               "f:spec": fieldset(kcm_spec, top=True)})]

    # Admission and the scheduler add the service-account volume, tolerations and nodeName.
    spec = dict(kcm_spec)
    spec["containers"] = [dict(ct, volumeMounts=ct.get("volumeMounts", []) + [
        {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": sa_volume,
         "readOnly": True}]) for ct in containers]
    spec["volumes"] = volumes + [{"name": sa_volume, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                       "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1",
                                                 "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}]
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = 0
    spec["serviceAccount"] = "default"
    spec["serviceAccountName"] = "default"
    spec["tolerations"] = [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
         "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
         "tolerationSeconds": 300},
    ]
    if w.kind == "DaemonSet":
        spec["hostNetwork"] = True
        spec["priority"] = 2000001000
        spec["priorityClassName"] = "system-node-critical"
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node.name]}]}]}}}
        spec["tolerations"] = [{"operator": "Exists"}]

    status = pod_status(c, p, w, node, containers, started, running_since, uid)
    if p.problem != "unschedulable":
        spec["nodeName"] = node.name
    managed_fields.append(managed("kubelet", running_since,
                                  {"f:status": fieldset(
                                      {k: v for k, v in status.items()
                                       if k != "containerStatuses"}, top=True)
                                   | ({"f:containerStatuses": {}}
                                      if "containerStatuses" in status else {})},
                                  subresource="status"))
    if p.problem == "unschedulable":
        managed_fields[-1]["manager"] = "kube-scheduler"

    metadata = dict(meta, creationTimestamp=ts(created), managedFields=managed_fields,
                    name=p.name, namespace=p.ns, resourceVersion=c.resource_version(), uid=uid)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": status}


def pod_status(c, p, w, node, containers, started, running_since, uid):
    rng = c.rng
    problem = p.problem
    main = containers[0]["name"]
    qos = "Guaranteed" if w.guaranteed and not w.sidecar else "Burstable"
    if w.kind == "DaemonSet":
        qos = "Burstable"
    if problem == "unschedulable":
        since = started - dt.timedelta(seconds=2)
        message = (f"0/{c.n_nodes} nodes are available: 2 node(s) had untolerated taint "
                   f"{{node.kubernetes.io/disk-pressure: }}, {c.n_nodes - 2} Insufficient memory. "
                   f"preemption: 0/{c.n_nodes} nodes are available: 2 Preemption is not helpful "
                   f"for scheduling, {c.n_nodes - 2} No preemption victims found for incoming "
                   f"pod.")
        return {"conditions": [cond("PodScheduled", "False", since, "Unschedulable", message)],
                "phase": "Pending", "qosClass": qos}

    pod_ip = node.ip if w.kind == "DaemonSet" else node.next_pod_ip()
    base = {"hostIP": node.ip, "hostIPs": [{"ip": node.ip}], "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}], "qosClass": qos, "startTime": ts(started)}

    if problem == "evicted":
        resource = rng.choice(["memory", "memory", "ephemeral-storage"])
        if resource == "memory":
            message = (f"The node was low on resource: memory. Threshold quantity: 100Mi, "
                       f"available: {rng.randint(40000, 99000)}Ki. Container {main} was using "
                       f"{rng.randint(600, 4000)}Mi, request is {w.mem}, has larger consumption "
                       f"of memory. ")
        else:
            message = (f"The node was low on resource: ephemeral-storage. Threshold quantity: "
                       f"10Gi, available: {rng.randint(2000000, 9000000)}Ki. Container {main} "
                       f"was using {rng.randint(2, 40)}Gi, request is 0, has larger consumption "
                       f"of ephemeral-storage. ")
        when = c.ago(rng.randint(600, 5 * 86400))
        conds = [cond("DisruptionTarget", "True", when, "TerminationByKubelet", message),
                 cond("Initialized", "True", started),
                 cond("Ready", "False", when, "PodFailed"),
                 cond("ContainersReady", "False", when, "PodFailed"),
                 cond("PodScheduled", "True", started)]
        return dict(base, conditions=conds, message=message, phase="Failed", reason="Evicted")

    statuses = []
    all_ready = True
    phase = "Running"
    for ct in containers:
        name = ct["name"]
        image = ct["image"]
        image_id = w.image_id if image == w.image else \
            image.rsplit(":", 1)[0] + "@sha256:" + c.hex(32)
        cs = {"containerID": "containerd://" + c.hex(32), "image": image, "imageID": image_id,
              "lastState": {}, "name": name, "ready": True, "restartCount": 0, "started": True,
              "state": {"running": {"startedAt": ts(running_since)}}}
        is_main = name == main
        if is_main and problem == "oom":
            finished = c.ago(rng.randint(300, 5 * 3600) if rng.random() < 0.85
                             else rng.randint(7 * 3600, 48 * 3600))
            cs["lastState"] = {"terminated": {
                "containerID": "containerd://" + c.hex(32), "exitCode": 137,
                "finishedAt": ts(finished), "reason": "OOMKilled",
                "startedAt": ts(finished - dt.timedelta(seconds=rng.randint(60, 7200)))}}
            cs["restartCount"] = rng.randint(1, 4)
            cs["state"] = {"running": {"startedAt": ts(finished + dt.timedelta(seconds=1))}}
        elif is_main and problem == "crashloop":
            finished = c.ago(rng.randint(10, 290))
            cs["lastState"] = {"terminated": {
                "containerID": cs["containerID"], "exitCode": rng.choice([1, 1, 2, 139, 255]),
                "finishedAt": ts(finished), "reason": "Error",
                "startedAt": ts(finished - dt.timedelta(seconds=rng.randint(1, 30)))}}
            cs["ready"] = False
            cs["restartCount"] = rng.randint(5, 400)
            cs["started"] = False
            cs["state"] = {"waiting": {
                "message": f"back-off 5m0s restarting failed container={name} "
                           f"pod={p.name}_{p.ns}({uid})",
                "reason": "CrashLoopBackOff"}}
        elif is_main and problem == "imagepull":
            bad = image.rsplit(":", 1)[0] + ":" + w.version + "-rc" + str(rng.randint(1, 9))
            del cs["containerID"]
            cs.update(image=bad, imageID="", ready=False, started=False,
                      state={"waiting": {"message": f'Back-off pulling image "{bad}"',
                                         "reason": "ImagePullBackOff"}})
            phase = "Pending"
        elif w.kind == "Job":
            done = started + dt.timedelta(seconds=rng.randint(30, 1800))
            failed = w.failed
            cs.update(ready=False, started=False, state={"terminated": {
                "containerID": cs["containerID"], "exitCode": 1 if failed else 0,
                "finishedAt": ts(done), "reason": "Error" if failed else "Completed",
                "startedAt": ts(running_since)}})
            phase = "Failed" if failed else "Succeeded"
        all_ready = all_ready and cs["ready"]
        statuses.append(cs)

    if phase in ("Succeeded", "Failed"):
        ready = [cond("Ready", "False", running_since, "PodCompleted"),
                 cond("ContainersReady", "False", running_since, "PodCompleted")]
    elif all_ready:
        ready = [cond("Ready", "True", running_since), cond("ContainersReady", "True",
                                                             running_since)]
    else:
        unready = "[" + " ".join(s["name"] for s in statuses if not s["ready"]) + "]"
        when = c.ago(rng.randint(300, 3 * 86400))
        msg = f"containers with unready status: {unready}"
        ready = [cond("Ready", "False", when, "ContainersNotReady", msg),
                 cond("ContainersReady", "False", when, "ContainersNotReady", msg)]
    conds = [cond("Initialized", "True", started)] + ready + \
        [cond("PodScheduled", "True", started - dt.timedelta(seconds=1))]
    return dict(base, conditions=conds, containerStatuses=statuses, phase=phase)


def make_node(c, n):
    rng = c.rng
    ty, cpus, gib = n.instance
    heartbeat = c.ago(rng.randint(5, 50))
    labels = {
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": ty,
        "beta.kubernetes.io/os": "linux", "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": "general-" + n.zone[-1],
        "failure-domain.beta.kubernetes.io/region": "us-east-1",
        "failure-domain.beta.kubernetes.io/zone": n.zone, "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": ty, "topology.kubernetes.io/region": "us-east-1",
        "topology.kubernetes.io/zone": n.zone,
    }

    def node_cond(kind, status, reason, message, since):
        return {"lastHeartbeatTime": ts(heartbeat), "lastTransitionTime": ts(since),
                "message": message, "reason": reason, "status": status, "type": kind}

    since = n.created + dt.timedelta(seconds=40)
    disk_since = c.ago(rng.randint(40 * 60, 3 * 3600))
    conditions = [
        node_cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                  "kubelet has sufficient memory available", since),
        node_cond("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure",
                  disk_since) if n.disk_pressure else
        node_cond("DiskPressure", "False", "KubeletHasNoDiskPressure",
                  "kubelet has no disk pressure", since),
        node_cond("PIDPressure", "False", "KubeletHasSufficientPID",
                  "kubelet has sufficient PID available", since),
        node_cond("Ready", "True", "KubeletReady",
                  "kubelet is posting ready status", since),
    ]
    if n.not_ready:
        lost = c.ago(rng.randint(30 * 60, 2 * 3600))
        for cd in conditions:
            cd.update(lastHeartbeatTime=ts(lost - dt.timedelta(seconds=40)),
                      lastTransitionTime=ts(lost), message="Kubelet stopped posting node status.",
                      reason="NodeStatusUnknown", status="Unknown")
    allocatable = {"cpu": f"{cpus * 1000 - 90}m", "ephemeral-storage": "95491281146",
                   "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                   "memory": f"{gib * 1024 * 1024 - 1_000_000}Ki", "pods": "234"}
    capacity = {"cpu": str(cpus), "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": f"{gib * 1024 * 1024 - 500_000}Ki",
                "pods": "234"}
    images = [{"names": [f"registry.example.com/base/image-{k}@sha256:{c.hex(32)}",
                         f"registry.example.com/base/image-{k}:v{k}.0.0"],
               "sizeBytes": rng.randint(10_000_000, 900_000_000)} for k in range(12)]
    status = {
        "addresses": [{"address": n.ip, "type": "InternalIP"},
                      {"address": n.name, "type": "InternalDNS"},
                      {"address": n.name, "type": "Hostname"}],
        "allocatable": allocatable, "capacity": capacity, "conditions": conditions,
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}, "images": images,
        "nodeInfo": {"architecture": "amd64", "bootID": c.uid(),
                     "containerRuntimeVersion": "containerd://1.7.11",
                     "kernelVersion": "5.10.210-201.852.amzn2.x86_64",
                     "kubeProxyVersion": "v1.29.3-eks-ae9a62a",
                     "kubeletVersion": "v1.29.3-eks-ae9a62a", "machineID": c.hex(16),
                     "operatingSystem": "linux", "osImage": "Amazon Linux 2",
                     "systemUUID": c.uid()},
    }
    spec = {"podCIDR": n.pod_cidr, "podCIDRs": [n.pod_cidr],
            "providerID": f"aws:///{n.zone}/i-{c.hex(8)[:17]}"}
    if n.disk_pressure:
        spec["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure",
                           "timeAdded": ts(disk_since)}]
    if n.not_ready:
        spec["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable",
                           "timeAdded": conditions[0]["lastTransitionTime"]},
                          {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                           "timeAdded": conditions[0]["lastTransitionTime"]}]
    annotations = {"alpha.kubernetes.io/provided-node-ip": n.ip,
                   "node.alpha.kubernetes.io/ttl": "0",
                   "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    meta = {"annotations": annotations, "labels": labels}
    managed_fields = [
        managed("kubelet", n.created, {"f:metadata": fieldset(meta, top=True),
                                       "f:spec": fieldset({"providerID": 1}, top=True)}),
        managed("kube-controller-manager", n.created + dt.timedelta(seconds=20),
                {"f:spec": fieldset({"podCIDR": 1, "podCIDRs": 1}, top=True)}),
        managed("kubelet", heartbeat, {"f:status": fieldset(
            {k: v for k, v in status.items() if k not in ("images",)}, top=True)
            | {"f:images": {}}}, subresource="status"),
    ]
    metadata = dict(meta, creationTimestamp=ts(n.created), managedFields=managed_fields,
                    name=n.name, resourceVersion=c.resource_version(), uid=n.uid)
    return {"apiVersion": "v1", "kind": "Node", "metadata": metadata, "spec": spec,
            "status": status}


def selector_labels(w):
    if w.kind == "DaemonSet":
        return {"k8s-app": w.name}
    return {"app": w.name}


def template(w, extra_labels=None):
    labels = dict(selector_labels(w), **(extra_labels or {}))
    spec = {"containers": template_containers(w), "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Never" if w.kind == "CronJob" else "Always",
            "schedulerName": "default-scheduler", "securityContext": {},
            "terminationGracePeriodSeconds": 30}
    vols = template_volumes(w)
    if vols:
        spec["volumes"] = vols
    return {"metadata": {"creationTimestamp": None, "labels": labels}, "spec": spec}


def workload_meta(c, w, name, labels, owner=None, annotations=None, managers=None,
                  created=None):
    """Metadata of a controller object; uid is the workload's (callers override for others)."""
    meta = {"labels": labels}
    if annotations:
        meta["annotations"] = annotations
    if owner:
        meta["ownerReferences"] = [owner]
    created = created or w.created
    mf = [managed(m, created + dt.timedelta(seconds=k), {"f:metadata": fieldset(meta, top=True)},
                  api_version=api) for k, (m, api) in enumerate(managers or [])]
    return dict(meta, creationTimestamp=ts(created), generation=w.revision, managedFields=mf,
                name=name, namespace=w.ns, resourceVersion=c.resource_version(), uid=w.uid)


def make_deployment(c, w):
    meta = workload_meta(c, w, w.name, {"app": w.name},
                         annotations={"deployment.kubernetes.io/revision": str(w.revision)},
                         managers=[("argocd-controller", "apps/v1"),
                                   ("kube-controller-manager", "apps/v1")])
    ready = w.replicas
    cond_time = ts(w.rs_created + dt.timedelta(seconds=30))
    spec = {"progressDeadlineSeconds": 600, "replicas": w.replicas, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": w.name}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                         "type": "RollingUpdate"},
            "template": template(w)}
    status = {"availableReplicas": ready, "conditions": [
        {"lastTransitionTime": cond_time, "lastUpdateTime": cond_time,
         "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
         "status": "True", "type": "Available"},
        {"lastTransitionTime": ts(w.created), "lastUpdateTime": cond_time,
         "message": f'ReplicaSet "{w.name}-{w.hash}" has successfully progressed.',
         "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}],
        "observedGeneration": w.revision, "readyReplicas": ready, "replicas": w.replicas,
        "updatedReplicas": w.replicas}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec,
            "status": status}


def make_replicasets(c, w):
    owner = {"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
             "kind": "Deployment", "name": w.name, "uid": w.uid}
    out = []
    sets = [(w.hash, w.rs_uid, w.replicas, w.revision, w.rs_created)]
    if w.old_rs:
        sets.append((w.old_hash, w.old_rs_uid, 0, w.revision - 1, w.created))
    for h, uid, replicas, revision, created in sets:
        ann = {"deployment.kubernetes.io/desired-replicas": str(w.replicas),
               "deployment.kubernetes.io/max-replicas": str(w.replicas + (w.replicas + 3) // 4),
               "deployment.kubernetes.io/revision": str(revision)}
        labels = {"app": w.name, "pod-template-hash": h}
        meta = workload_meta(c, w, f"{w.name}-{h}", labels, owner=owner,
                             annotations=ann, managers=[("kube-controller-manager", "apps/v1")],
                             created=created)
        meta["uid"] = uid
        meta["generation"] = 1 if replicas else 2
        status = {"observedGeneration": meta["generation"], "replicas": replicas}
        if replicas:
            status.update(availableReplicas=replicas, fullyLabeledReplicas=replicas,
                          readyReplicas=replicas)
        out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                    "spec": {"replicas": replicas,
                             "selector": {"matchLabels": labels},
                             "template": template(w, {"pod-template-hash": h})},
                    "status": status})
    return out


def make_statefulset(c, w):
    meta = workload_meta(c, w, w.name, {"app": w.name},
                         managers=[("helm", "apps/v1"), ("kube-controller-manager", "apps/v1")])
    tmpl = template(w)
    tmpl["spec"]["containers"][0]["volumeMounts"] = [{"mountPath": "/var/lib/postgresql/data",
                                                      "name": "data"}]
    spec = {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                     "whenScaled": "Retain"},
            "podManagementPolicy": "OrderedReady", "replicas": w.replicas,
            "revisionHistoryLimit": 10, "selector": {"matchLabels": {"app": w.name}},
            "serviceName": w.name, "template": tmpl,
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
            "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                      "metadata": {"creationTimestamp": None, "name": "data"},
                                      "spec": {"accessModes": ["ReadWriteOnce"],
                                               "resources": {"requests": {"storage": "50Gi"}},
                                               "storageClassName": "gp3",
                                               "volumeMode": "Filesystem"},
                                      "status": {"phase": "Pending"}}]}
    rev = f"{w.name}-{w.hash}"
    status = {"availableReplicas": w.replicas, "collisionCount": 0, "currentReplicas": w.replicas,
              "currentRevision": rev, "observedGeneration": 1, "readyReplicas": w.replicas,
              "replicas": w.replicas, "updateRevision": rev, "updatedReplicas": w.replicas}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec,
            "status": status}


def make_daemonset(c, w):
    meta = workload_meta(c, w, w.name, {"k8s-app": w.name},
                         annotations={"deprecated.daemonset.template.generation": "1"},
                         managers=[("eks", "apps/v1"), ("kube-controller-manager", "apps/v1")])
    n = w.replicas
    spec = {"revisionHistoryLimit": 10, "selector": {"matchLabels": {"k8s-app": w.name}},
            "template": template(w),
            "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"},
                               "type": "RollingUpdate"}}
    status = {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n - 1,
              "numberMisscheduled": 0, "numberReady": n - 1, "numberUnavailable": 1,
              "observedGeneration": 1, "updatedNumberScheduled": n}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "spec": spec,
            "status": status}


def make_job(c, w):
    cj = w.cronjob
    owner = {"apiVersion": "batch/v1", "blockOwnerDeletion": True, "controller": True,
             "kind": "CronJob", "name": cj.name, "uid": cj.uid}
    labels = {"batch.kubernetes.io/controller-uid": w.uid, "batch.kubernetes.io/job-name": w.name,
              "controller-uid": w.uid, "job-name": w.name}
    meta = workload_meta(c, w, w.name, labels, owner=owner,
                         annotations={"batch.kubernetes.io/job-tracking": ""},
                         managers=[("kube-controller-manager", "batch/v1")])
    meta["uid"] = w.uid
    tmpl = template(cj, labels)
    spec = {"backoffLimit": 1, "completionMode": "NonIndexed", "completions": 1,
            "manualSelector": False, "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": w.uid}},
            "suspend": False, "template": tmpl}
    start = w.created + dt.timedelta(seconds=1)
    end = start + dt.timedelta(minutes=7)
    if w.failed:
        status = {"conditions": [
            {"lastProbeTime": ts(end), "lastTransitionTime": ts(end),
             "message": "Job has reached the specified backoff limit",
             "reason": "BackoffLimitExceeded", "status": "True", "type": "FailureTarget"},
            {"lastProbeTime": ts(end), "lastTransitionTime": ts(end),
             "message": "Job has reached the specified backoff limit",
             "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed"}],
            "failed": 2, "ready": 0, "startTime": ts(start), "terminating": 0,
            "uncountedTerminatedPods": {}}
    else:
        status = {"completionTime": ts(end), "conditions": [
            {"lastProbeTime": ts(end), "lastTransitionTime": ts(end), "status": "True",
             "type": "Complete"}], "ready": 0, "startTime": ts(start), "succeeded": 1,
            "terminating": 0, "uncountedTerminatedPods": {}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec,
            "status": status}


def make_cronjob(c, w):
    meta = workload_meta(c, w, w.name, {"app": w.name},
                         managers=[("helm", "batch/v1"), ("kube-controller-manager", "batch/v1")])
    spec = {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"creationTimestamp": None},
                            "spec": {"backoffLimit": 1, "template": template(w)}},
            "schedule": w.schedule, "successfulJobsHistoryLimit": 3, "suspend": False}
    last = c.ago(3600)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec,
            "status": {"lastScheduleTime": ts(last), "lastSuccessfulTime": ts(last)}}


def make_pvc(c, w, ordinal, node):
    name = f"data-{w.name}-{ordinal}"
    created = w.created + dt.timedelta(seconds=ordinal * 30)
    ann = {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
           "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
           "volume.kubernetes.io/selected-node": node.name,
           "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}
    meta = {"annotations": ann, "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": {"app": w.name}}
    uid = c.uid()
    mf = [managed("kube-controller-manager", created, {"f:metadata": fieldset(meta, top=True)})]
    metadata = dict(meta, creationTimestamp=ts(created), managedFields=mf, name=name,
                    namespace=w.ns, resourceVersion=c.resource_version(), uid=uid)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests":
                                                                     {"storage": "50Gi"}},
                     "storageClassName": "gp3", "volumeMode": "Filesystem",
                     "volumeName": f"pvc-{uid}"},
            "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "50Gi"},
                       "phase": "Bound"}}


def make_pdb(c, w):
    meta = workload_meta(c, w, w.name, {"app": w.name},
                         managers=[("argocd-controller", "policy/v1")])
    meta["uid"] = c.uid()
    allowed = max(0, w.replicas - 1)
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": w.name}}},
            "status": {"conditions": [{"lastTransitionTime": ts(w.rs_created),
                                       "message": "", "observedGeneration": 1,
                                       "reason": "SufficientPods", "status": "True",
                                       "type": "DisruptionAllowed"}],
                       "currentHealthy": w.replicas, "desiredHealthy": 1,
                       "disruptionsAllowed": allowed, "expectedPods": w.replicas,
                       "observedGeneration": 1}}


def make_event(c, pod, kind_info):
    reason, message, etype, count, component, field = kind_info
    first = c.ago(c.rng.randint(3600, 6 * 3600))
    last = c.ago(c.rng.randint(5, 900))
    name = f"{pod['metadata']['name']}.{c.hex(8)}"
    node = pod["spec"].get("nodeName", "")
    involved = {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"],
                "namespace": pod["metadata"]["namespace"],
                "resourceVersion": pod["metadata"]["resourceVersion"],
                "uid": pod["metadata"]["uid"]}
    if field:
        involved["fieldPath"] = field
    return {"apiVersion": "v1", "count": count, "eventTime": None, "firstTimestamp": ts(first),
            "involvedObject": involved, "kind": "Event", "lastTimestamp": ts(last),
            "message": message,
            "metadata": {"creationTimestamp": ts(first), "name": name,
                         "namespace": pod["metadata"]["namespace"],
                         "resourceVersion": c.resource_version(), "uid": c.uid()},
            "reason": reason, "reportingComponent": component,
            "reportingInstance": node if component == "kubelet" else "",
            "source": {"component": component, "host": node} if component == "kubelet"
            else {"component": component},
            "type": etype}


def event_for(pod, problem):
    """The Warning event a real cluster would hold for a broken pod."""
    main = pod["spec"]["containers"][0]["name"]
    field = f"spec.containers{{{main}}}"
    if problem == "crashloop":
        return ("BackOff", f"Back-off restarting failed container {main} in pod "
                f"{pod['metadata']['name']}_{pod['metadata']['namespace']}"
                f"({pod['metadata']['uid']})", "Warning", 120, "kubelet", field)
    if problem == "imagepull":
        image = pod["status"]["containerStatuses"][0]["image"]
        return ("BackOff", f'Back-off pulling image "{image}"', "Warning", 40, "kubelet", field)
    if problem == "evicted":
        return ("Evicted", pod["status"]["message"], "Warning", 1, "kubelet", None)
    if problem == "unschedulable":
        return ("FailedScheduling", pod["status"]["conditions"][0]["message"], "Warning", 12,
                "default-scheduler", None)
    if problem == "oom":
        return ("BackOff", f"Back-off restarting failed container {main} in pod "
                f"{pod['metadata']['name']}_{pod['metadata']['namespace']}"
                f"({pod['metadata']['uid']})", "Warning", 3, "kubelet", field)
    return None


def make_namespace(c, name):
    created = c.ago(c.rng.randint(150 * 86400, 400 * 86400))
    labels = {"kubernetes.io/metadata.name": name}
    if name not in SYSTEM_NAMESPACES:
        labels["team"] = name.split("-")[0]
    meta = {"labels": labels}
    mf = [managed("kubectl-create" if name in NAMESPACE_WORDS else "kube-apiserver", created,
                  {"f:metadata": fieldset(meta, top=True)})]
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": dict(meta, creationTimestamp=ts(created), managedFields=mf, name=name,
                             resourceVersion=c.resource_version(), uid=c.uid()),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def make_storage_classes(c):
    out = []
    for name, expand, default in (("gp2", False, False), ("gp3", True, True)):
        created = c.ago(400 * 86400)
        ann = {"storageclass.kubernetes.io/is-default-class": "true" if default else "false"}
        meta = {"annotations": ann}
        sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": dict(meta, creationTimestamp=ts(created),
                               managedFields=[managed("kubectl-client-side-apply", created,
                                                      {"f:metadata": fieldset(meta, top=True)},
                                                      api_version="storage.k8s.io/v1")],
                               name=name, resourceVersion=c.resource_version(), uid=c.uid()),
              "parameters": {"fsType": "ext4", "type": name},
              "provisioner": "kubernetes.io/aws-ebs" if name == "gp2" else "ebs.csi.aws.com",
              "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}
        if expand:
            sc["allowVolumeExpansion"] = True
        out.append(sc)
    return out


# ---------------------------------------------------------------------------------------------
# Writing: items are produced one at a time and written at once, so memory stays small.
# ---------------------------------------------------------------------------------------------

class YamlListWriter:
    def __init__(self, f):
        self.f = f
        f.write("apiVersion: v1\nitems:\n")

    def item(self, obj):
        lines = []
        yaml_block(obj, lines, "  ", "- ")
        lines.append("")
        self.f.write("\n".join(lines))

    def close(self):
        self.f.write('kind: List\nmetadata:\n  resourceVersion: ""\n')


class JsonListWriter:
    """kubectl -o json: 4-space indent, sorted keys."""

    def __init__(self, f):
        self.f = f
        self.first = True
        f.write('{\n    "apiVersion": "v1",\n    "items": [\n')

    def item(self, obj):
        text = json.dumps(obj, indent=4, sort_keys=True)
        if not self.first:
            self.f.write(",\n")
        self.first = False
        self.f.write("        " + text.replace("\n", "\n        "))

    def close(self):
        self.f.write('\n    ],\n    "kind": "List",\n    "metadata": {\n'
                     '        "resourceVersion": ""\n    }\n}\n')


def generate(args, out):
    now = dt.datetime.strptime(args.now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    c = Ctx(args.seed, now)
    n_nodes = args.nodes if args.nodes is not None else max(1, args.pods // 100)
    c.n_nodes = n_nodes
    nodes, namespaces, workloads, pods, cronjobs = plan_cluster(c, args.pods, n_nodes, args.broken)
    w = YamlListWriter(out) if args.format == "yaml" else JsonListWriter(out)
    counts = {}

    def emit(obj):
        counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        w.item(obj)

    def by_ns_name(objs):
        return sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""),
                                           o["metadata"]["name"]))

    problems = {}
    events = []
    for p in pods:
        pod = make_pod(c, p, nodes)
        emit(pod)
        if p.problem:
            problems[p.problem] = problems.get(p.problem, 0) + 1
            info = event_for(pod, p.problem)
            if info:
                events.append(make_event(c, pod, info))
    for n in sorted(nodes, key=lambda n: n.name):
        emit(make_node(c, n))
    sts = [x for x in workloads if x.kind == "StatefulSet"]
    sts_nodes = {(p.ns, p.name): nodes[p.node] for p in pods if p.owner.kind == "StatefulSet"}
    for o in by_ns_name([make_pvc(c, s, k, sts_nodes[(s.ns, f"{s.name}-{k}")])
                         for s in sts for k in range(s.replicas)]):
        emit(o)
    deploys = [x for x in workloads if x.kind == "Deployment"]
    for o in by_ns_name([make_deployment(c, d) for d in deploys]):
        emit(o)
    for o in by_ns_name([rs for d in deploys for rs in make_replicasets(c, d)]):
        emit(o)
    for o in by_ns_name([make_statefulset(c, s) for s in sts]):
        emit(o)
    for o in by_ns_name([make_daemonset(c, d) for d in workloads if d.kind == "DaemonSet"]):
        emit(o)
    for o in by_ns_name([make_job(c, j) for j in workloads if j.kind == "Job"]):
        emit(o)
    for o in by_ns_name([make_cronjob(c, j) for j in cronjobs]):
        emit(o)
    for o in by_ns_name([make_pdb(c, d) for d in deploys if d.pdb]):
        emit(o)
    for o in by_ns_name(events):
        emit(o)
    for ns in namespaces:
        emit(make_namespace(c, ns))
    for sc in make_storage_classes(c):
        emit(sc)
    w.close()
    return counts, problems, n_nodes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pods", type=int, default=50000, help="number of pods (default 50000)")
    ap.add_argument("--nodes", type=int, default=None, help="number of nodes (default pods/100)")
    ap.add_argument("--format", choices=["yaml", "json"], default="yaml")
    ap.add_argument("--broken", type=float, default=DEFAULT_BROKEN,
                    help=f"share of pods OOMKilled, crash-looping, failing to pull or evicted "
                         f"(default {DEFAULT_BROKEN})")
    ap.add_argument("--seed", type=int, default=1, help="random seed (same seed, same cluster)")
    ap.add_argument("--now", default=DEFAULT_NOW,
                    help=f"reference time, RFC 3339 in UTC (default {DEFAULT_NOW})")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    args = ap.parse_args()
    if args.pods < 1 or (args.nodes is not None and args.nodes < 1):
        ap.error("--pods and --nodes must be at least 1")
    if not 0 <= args.broken <= 0.5:
        ap.error("--broken must be between 0 and 0.5")
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8",
                                                    buffering=1 << 20)
    try:
        counts, problems, n_nodes = generate(args, out)
    finally:
        if out is not sys.stdout:
            out.close()
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    broken = ", ".join(f"{k}={v}" for k, v in sorted(problems.items()))
    print(f"generated: {summary}", file=sys.stderr)
    print(f"broken pods: {broken}; nodes with DiskPressure: {min(2, n_nodes)}", file=sys.stderr)
    print(f"reference-time: {args.now}", file=sys.stderr)


if __name__ == "__main__":
    main()
