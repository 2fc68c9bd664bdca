#!/usr/bin/env bash
# Benchmark `rounds plan` over a series of generated clusters (scripts/gen-snapshot.py), one size
# after another, against what users would otherwise run on the same data and against the
# decoding limit of each format:
#
#   rounds live          `rounds plan` against the test API server serving the JSON snapshot
#   rounds json|yaml     `rounds plan --snapshot` on the JSON and on the YAML file
#   kubectl+jq live      `kubectl get pods -A -o json | jq FILTER` against the same server
#   jq json, python json the same FILTER on the JSON file (jq; Python's json.load)
#   limit json           serde_json decoding the JSON file into IgnoredAny (rounds-bench-limit)
#   limit yaml           libyaml's parser over the YAML file, events only (rounds-bench-limit)
#
# FILTER finds the pods rounds' oomKilled and crashLoopBackOff playbooks find: outside kube-*
# and rounds, OOMKilled within 6h with at least 2 kills per owning workload, CrashLoopBackOff
# with at least 5 restarts. The script fails if rounds and a peer disagree on those pods.
#
# For each size and mode it measures wall time and peak RSS (GNU time's %M; for kubectl+jq the
# sum of both processes' peaks), the requests the test API server served (live modes), and
# throughput (file bytes / wall seconds). rounds' figures are the end-to-end wall time of the
# process; the limit's are the parse alone, after the file was read into memory.
# It prints one Markdown table, and writes it to OUT.
#
# Environment knobs:
#   SIZES=1000,10000,50000,100000  pods per cluster (nodes = pods/100), in this order
#   REPEAT            runs per command, the median is reported (default 3 below 10k pods, 1 from
#                     10k: kubectl+jq takes a minute per 10k pods, rounds on YAML half a minute)
#   SEED=1            generator seed (the same seed gives the same clusters)
#   BROKEN            share of broken pods passed to the generator (default: its own, 2%)
#   WORK=/tmp/rounds-bench  where snapshots (reused while the generator and its arguments are
#                     unchanged), run outputs and the table go
#   OUT=$WORK/table.md  the Markdown table
#   LIVE=1            0 skips the live modes (test API server, kubectl)
#   PYTHON=1          0 skips the Python peer
#   SERVER_GIB_PER_10K=2  the test API server's memory per 10k pods, until it has been measured
#                     at 10k pods or more in this run; live modes are skipped at sizes where
#                     the prediction does not fit in MemAvailable
#   CARGO_TARGET_DIR  where cargo builds (default: the repo's target/)
set -euo pipefail

SIZES=${SIZES:-1000,10000,50000,100000}
SEED=${SEED:-1}
REPEAT_ALL=${REPEAT:-}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
ROUNDS=$TARGET/release/rounds
SERVER_BIN=$TARGET/release/rounds-test-apiserver
LIMIT=$TARGET/release/limit
WORK=${WORK:-${TMPDIR:-/tmp}/rounds-bench}
OUT=${OUT:-$WORK/table.md}
LIVE=${LIVE:-1}
PYTHON=${PYTHON:-1}
START=$SECONDS

log() { printf '[bench %4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

IFS=, read -r -a PODS_LIST <<<"$SIZES"
for pods in "${PODS_LIST[@]}"; do
    [[ $pods =~ ^[1-9][0-9]*$ ]] || die "SIZES must be pod counts separated by commas, got $SIZES"
done

# --- tools: GNU time gives peak RSS (%M); jq, python3 and kubectl are the peers -------------
need_pkg() { # command, package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "$1 is missing; install the $2 package"
    log "installing $2"
    apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
}
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg jq jq
need_pkg python3 python3
if [ "$LIVE" = 1 ]; then need_pkg kubectl kubectl; fi

# --- build ------------------------------------------------------------------------------------
log "building rounds, the test API server and the limit (release) in $TARGET"
(cd "$REPO" && CARGO_TARGET_DIR=$TARGET cargo build --release --quiet \
    -p rounds -p rounds-test-apiserver -p rounds-bench-limit)
for bin in "$ROUNDS" "$SERVER_BIN" "$LIMIT"; do [ -x "$bin" ] || die "no binary at $bin"; done

mkdir -p "$WORK/snapshots" "$WORK/runs" "$WORK/home"
RESULTS=$WORK/results.tsv # pods mode run secs kib requests bytes
SKIPS=$WORK/skips.tsv     # pods mode reason
NOTES=$WORK/notes.txt
: >"$RESULTS"
: >"$SKIPS"
: >"$NOTES"
SERVER=
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true' EXIT

# --- the peers' filter -------------------------------------------------------------------------
# The detection of rounds' oom-raise-memory and crashloop-restart playbooks, written the way a
# user would in jq: an owning workload is the pod's first owner, a ReplicaSet standing for its
# Deployment (name without the template hash). A kill whose time cannot be read counts.
# shellcheck disable=SC2016 # jq's $variables, not the shell's
JQ_FILTER='
def owner: .metadata.namespace + "/" + ((.metadata.ownerReferences // [])[0] // {}
    | if .kind == "ReplicaSet" then .name | sub("-[^-]+$"; "") else .name // "" end);
def statuses: (.status.containerStatuses // [])[], (.status.initContainerStatuses // [])[];
($now | fromdateiso8601) as $t0
| [.items[] | select(.kind == "Pod")
    | select(.metadata.namespace | (startswith("kube-") or . == "rounds") | not)] as $pods
| [$pods[] | select(any(statuses; .state.waiting.reason == "CrashLoopBackOff" and .restartCount >= 5))]
  + [[$pods[] | {pod: ., owner: owner, kills: ([statuses | .state.terminated, .lastState.terminated
        | select(.reason? == "OOMKilled")
        | select(((.finishedAt | fromdateiso8601?) // null) as $t | $t == null or $t0 - $t <= 21600)]
        | length)}
      | select(.kills > 0)]
     | group_by(.owner)[] | select(map(.kills) | add >= 2) | .[].pod]
| map(.metadata.namespace + "/" + .metadata.name) | unique'
PY_FILTER='import collections, datetime, json, sys
def g(o, *keys):
    for k in keys: o = (o or {}).get(k)
    return o
def secs(s):
    try: return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError): return None
def owner(p):
    o = (g(p, "metadata", "ownerReferences") or [{}])[0]
    name = o.get("name", "")
    if o.get("kind") == "ReplicaSet": name = name.rsplit("-", 1)[0]
    return p["metadata"]["namespace"] + "/" + name
now = secs(sys.argv[2])
d = json.load(open(sys.argv[1]))
found, kills = set(), collections.defaultdict(list)
for p in d["items"]:
    ns = g(p, "metadata", "namespace") or ""
    if p["kind"] != "Pod" or ns.startswith("kube-") or ns == "rounds": continue
    cs = (g(p, "status", "containerStatuses") or []) + (g(p, "status", "initContainerStatuses") or [])
    name = ns + "/" + p["metadata"]["name"]
    if any(g(c, "state", "waiting", "reason") == "CrashLoopBackOff" and c.get("restartCount", 0) >= 5 for c in cs):
        found.add(name)
    n = sum(1 for c in cs for t in (g(c, "state", "terminated"), g(c, "lastState", "terminated"))
            if g(t, "reason") == "OOMKilled" and (secs(g(t, "finishedAt")) is None or now - secs(g(t, "finishedAt")) <= 21600))
    if n: kills[owner(p)].append((name, n))
for pods in kills.values():
    if sum(n for _, n in pods) >= 2: found.update(name for name, _ in pods)
print(json.dumps(sorted(found)))'

# --- memory predictions: KiB per pod, refined by measurements at 10k pods or more ---------------
# Defaults from the 50k-pod runs: jq holds ~1.3 GiB per 10k pods, Python ~0.7, kubectl -o json
# plus jq ~1.7 (kubectl alone ~0.9); the test API server ~1.9 (before its compact store).
declare -A KIB_PER_POD=([jq]=140 [python]=80 [kubectl+jq]=200 [kubectl]=100
    [server]=$(awk -v g="${SERVER_GIB_PER_10K:-2}" 'BEGIN { printf "%d", g * 1048576 / 10000 + 1 }'))
learn() { # what, pods, measured KiB[, headroom %]: keep 20% headroom over what was seen
    [ -n "$3" ] || die "no memory measured for $1 at $2 pods"
    [ "$2" -ge 10000 ] || return 0
    KIB_PER_POD[$1]=$(($3 * (100 + ${4:-20}) / 100 / $2 + 1))
}
gib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1048576 }'; }
# fits WHAT PODS: 0 when the predicted memory fits in MemAvailable (less 10%); else sets WHY.
fits() {
    local need avail
    need=$((KIB_PER_POD[$1] * $2))
    avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    if [ "$need" -lt $((avail * 9 / 10)) ]; then return 0; fi
    WHY="skipped: needs ~$(gib "$need") GiB, MemAvailable $(gib "$avail") GiB"
    return 1
}
# fits_in_turn PODS: kubectl, then jq after it, each alone fits (0); else sets WHY.
fits_in_turn() {
    local k=${KIB_PER_POD[kubectl]} j=${KIB_PER_POD[jq]}
    KIB_PER_POD[in-turn]=$((k > j ? k : j))
    fits in-turn "$1"
}
skip() { # pods mode reason
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$SKIPS"
    log "$2 at $1 pods: $3"
}

# --- snapshots -----------------------------------------------------------------------------------
# Reused across invocations while the generator and its arguments are the same (generating 100k
# pods takes minutes); both formats at once (two cores).
generate() { # pods -> sets YAML JSON NOW
    local pods=$1 stamp base
    local args=(--pods "$pods" --seed "$SEED")
    [ -z "${BROKEN:-}" ] || args+=(--broken "$BROKEN")
    base=$WORK/snapshots/cluster-$pods
    YAML=$base.yaml
    JSON=$base.json
    stamp="$(sha256sum <"$REPO/scripts/gen-snapshot.py" | cut -c1-16) ${args[*]}"
    if [ -s "$base.stamp" ] && [ "$(cat "$base.stamp")" = "$stamp" ] && [ -s "$YAML" ] && [ -s "$JSON" ]; then
        log "reusing the $pods-pod snapshots in $WORK/snapshots"
    else
        rm -f "$base.stamp"
        log "generating $pods pods as YAML and JSON"
        python3 "$REPO/scripts/gen-snapshot.py" "${args[@]}" --format yaml --out "$YAML" 2>"$base.yaml.err" &
        local gen_yaml=$!
        python3 "$REPO/scripts/gen-snapshot.py" "${args[@]}" --format json --out "$JSON" 2>"$base.json.err" &
        local gen_json=$!
        wait $gen_yaml || { cat "$base.yaml.err" >&2; die "YAML generation failed"; }
        wait $gen_json || { cat "$base.json.err" >&2; die "JSON generation failed"; }
        printf '%s\n' "$stamp" >"$base.stamp"
    fi
    grep '^broken pods:' "$base.yaml.err" >&2 || true
    NOW=$(awk '/^reference-time:/ { print $2 }' "$base.yaml.err")
    [ -n "$NOW" ] || die "the generator printed no reference time"
    log "YAML $(($(stat -c %s "$YAML") / 1048576)) MiB, JSON $(($(stat -c %s "$JSON") / 1048576)) MiB, reference time $NOW"
}

# --- the live server -------------------------------------------------------------------------------
start_server() { # json
    local kc=$WORK/kubeconfig
    rm -f "$kc" "$WORK/requests.log" "$WORK/server.url"
    "$SERVER_BIN" --snapshot "$1" --kubeconfig "$kc" --request-log "$WORK/requests.log" \
        >"$WORK/server.url" 2>"$WORK/server.err" &
    SERVER=$!
    # Seeding a big snapshot takes a while; wait as long as the server lives.
    while [ ! -s "$WORK/server.url" ]; do
        kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.err" >&2; die "the test API server died"; }
        sleep 0.5
    done
    log "test API server up: $(head -1 "$WORK/server.err"), $(server_kib) KiB RSS"
}
server_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER/status"; }
# requests_served: how many requests the server served since the previous call (it writes its
# request log on SIGUSR1 and forgets what it wrote).
requests_served() {
    rm -f "$WORK/requests.log"
    kill -USR1 "$SERVER"
    local i
    for i in $(seq 100); do [ -e "$WORK/requests.log" ] && break; sleep 0.1; done
    [ -e "$WORK/requests.log" ] || die "the test API server wrote no request log"
    wc -l <"$WORK/requests.log"
}
stop_server() { # pods
    local kib
    kib=$(server_kib)
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=
    learn server "$1" "$kib"
    printf 'test API server peak RSS at %s pods: %s MiB\n' "$1" $((kib / 1024)) >>"$NOTES"
    log "test API server stopped; peak RSS $((kib / 1024)) MiB"
}

# --- one measurement -----------------------------------------------------------------------------
# run PODS MODE BYTES CMD...: REPEAT timed runs. Output goes to a file (small next to the input)
# so that it can be checked; live modes also count the requests served.
run() {
    local pods=$1 mode=$2 bytes=$3; shift 3
    local dir=$WORK/runs/$pods-${mode//[^a-z]/-} i secs kib requests
    mkdir -p "$dir"
    [ "${mode%live}" = "$mode" ] || requests_served >/dev/null
    # Every mode starts with its file in the page cache: a peer that held 13 GiB just before
    # (jq, kubectl) evicts it, and the first run would time the disk instead of the reader.
    case $mode in *json) cat "$JSON" >/dev/null ;; *yaml) cat "$YAML" >/dev/null ;; esac
    for i in $(seq "$REPEAT"); do
        if ! /usr/bin/time -f '%e %M' -o "$dir/time" "$@" >"$dir/out" 2>"$dir/err"; then
            cat "$dir/err" >&2
            die "$mode at $pods pods failed: $*"
        fi
        read -r secs kib <"$dir/time"
        requests=-
        [ "${mode%live}" = "$mode" ] || requests=$(requests_served)
        case $mode in
            limit*) secs=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$dir/out") ;;
            kubectl+jq*)
                local k j
                k=$(cat "$dir/kubectl.kib") j=$(cat "$dir/jq.kib")
                if [ -e "$dir/in-turn" ]; then kib=$((k > j ? k : j)); else kib=$((k + j)); fi
                ;;
        esac
        check "$mode" "$dir"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pods" "$mode" "$i" "$secs" "$kib" "$requests" "$bytes" >>"$RESULTS"
        log "$mode at $pods pods, run $i: ${secs}s, $((kib / 1024)) MiB, requests $requests; $FOUND"
    done
}

# check MODE DIR: the result is not empty, and rounds and its peers agree on the OOMKilled and
# crash-looping pods (each writes the sorted set to DIR/pods).
check() {
    local mode=$1 dir=$2
    case $mode in
        rounds*)
            python3 - "$dir/out" >"$dir/pods" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["summary"]["findings"] > 0, "rounds reported no findings"
pods = {f'{f["target"].get("namespace", "")}/{f["target"]["name"]}' for f in report["findings"]
        if f["detector"] in ("oomKilled", "crashLoopBackOff") and f["target"]["kind"] == "Pod"}
print("\n".join(sorted(pods)))
EOF
            FOUND="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$dir/out") findings, $(wc -l <"$dir/pods") OOMKilled/CrashLoopBackOff pods"
            # rounds logs at INFO on stderr; anything else is worth seeing.
            if grep -qv ' INFO ' "$dir/err"; then log "rounds printed on stderr:"; grep -v ' INFO ' "$dir/err" | head -5 >&2; fi
            ;;
        limit*)
            FOUND=$(cat "$dir/out")
            return 0
            ;;
        *)
            python3 -c 'import json,sys; print("\n".join(sorted(set(json.load(open(sys.argv[1]))))))' "$dir/out" >"$dir/pods"
            FOUND="$(wc -l <"$dir/pods") pods"
            ;;
    esac
    [ -s "$dir/pods" ] || die "$mode found no OOMKilled or crash-looping pods"
    # Each size's first peer, or first rounds run, sets the reference the others must match.
    local ref=$dir/../$PODS_NOW.pods
    if [ ! -e "$ref" ]; then cp "$dir/pods" "$ref"; REF_MODE=$mode; return 0; fi
    if ! cmp -s "$ref" "$dir/pods"; then
        diff "$ref" "$dir/pods" | head -20 >&2
        die "$mode and $REF_MODE disagree on the OOMKilled/CrashLoopBackOff pods at $PODS_NOW pods (< $REF_MODE, > $mode)"
    fi
}

# --- the series ----------------------------------------------------------------------------------
for PODS_NOW in "${PODS_LIST[@]}"; do
    pods=$PODS_NOW
    if [ -n "$REPEAT_ALL" ]; then REPEAT=$REPEAT_ALL
    elif [ "$pods" -ge 10000 ]; then REPEAT=1
    else REPEAT=3; fi
    generate "$pods"
    rm -f "$WORK/runs/$pods.pods"
    yaml_bytes=$(stat -c %s "$YAML")
    json_bytes=$(stat -c %s "$JSON")
    printf 'snapshot\t%s\t%s\t%s\n' "$pods" "$yaml_bytes" "$json_bytes" >>"$NOTES"

    if [ "$LIVE" != 1 ]; then
        skip "$pods" "rounds live" "skipped: LIVE=0"
        skip "$pods" "kubectl+jq live" "skipped: LIVE=0"
    elif ! fits server "$pods"; then
        skip "$pods" "rounds live" "$WHY (test API server)"
        skip "$pods" "kubectl+jq live" "$WHY (test API server)"
    else
        start_server "$JSON"
        run "$pods" "rounds live" "$json_bytes" "$ROUNDS" plan --kubeconfig "$WORK/kubeconfig" \
            --playbooks "$REPO/playbooks" --now "$NOW" --output json --qps 1000
        kdir=$WORK/runs/$pods-kubectl-jq-live
        mkdir -p "$kdir"
        rm -f "$kdir/in-turn"
        if fits kubectl+jq "$pods"; then
            # shellcheck disable=SC2016 # the inner bash expands its own arguments
            run "$pods" "kubectl+jq live" "$json_bytes" env HOME="$WORK/home" bash -o pipefail -c \
                '/usr/bin/time -f %M -o "$1/kubectl.kib" kubectl --kubeconfig "$2" get pods -A -o json |
                 /usr/bin/time -f %M -o "$1/jq.kib" jq --arg now "$3" "$4"' \
                sh "$kdir" "$WORK/kubeconfig" "$NOW" "$JQ_FILTER"
            learn kubectl+jq "$pods" "$(awk -F '\t' -v p="$pods" '$1 == p && $2 == "kubectl+jq live" { print $5 }' "$RESULTS" | sort -n | tail -1)"
            # kubectl alone grows linearly (8.3 GiB at 50k pods, 16.2 at 100k); 20% headroom
            # on top of the 10% kept free would skip it where it fits with 5 GiB to spare.
            learn kubectl "$pods" "$(cat "$kdir/kubectl.kib")" 5
        elif pipe_why=${WHY:-} && fits_in_turn "$pods"; then
            # Both ends of the pipe hold the whole list at once; where their sum does not fit, a
            # user would write the list to a file and run jq on it after kubectl exits. That is
            # measured instead: wall time is the sum, peak RSS the larger of the two peaks.
            touch "$kdir/in-turn"
            printf 'kubectl+jq live at %s pods: kubectl wrote the list to a file, then jq read it, because the pipe %s; wall time is the sum of both, peak RSS the larger peak\n' \
                "$pods" "${pipe_why#skipped: }" >>"$NOTES"
            # shellcheck disable=SC2016 # the inner bash expands its own arguments
            run "$pods" "kubectl+jq live" "$json_bytes" env HOME="$WORK/home" bash -o pipefail -c \
                '/usr/bin/time -f %M -o "$1/kubectl.kib" kubectl --kubeconfig "$2" get pods -A -o json >"$1/list.json" &&
                 /usr/bin/time -f %M -o "$1/jq.kib" jq --arg now "$3" "$4" "$1/list.json"; rc=$?; rm -f "$1/list.json"; exit $rc' \
                sh "$kdir" "$WORK/kubeconfig" "$NOW" "$JQ_FILTER"
        else
            skip "$pods" "kubectl+jq live" "$WHY"
        fi
        stop_server "$pods"
    fi

    run "$pods" "rounds json" "$json_bytes" "$ROUNDS" plan --snapshot "$JSON" --playbooks "$REPO/playbooks" --now "$NOW" --output json
    run "$pods" "rounds yaml" "$yaml_bytes" "$ROUNDS" plan --snapshot "$YAML" --playbooks "$REPO/playbooks" --now "$NOW" --output json
    if fits jq "$pods"; then
        run "$pods" "jq json" "$json_bytes" jq --arg now "$NOW" "$JQ_FILTER" "$JSON"
        learn jq "$pods" "$(awk -F '\t' -v p="$pods" '$1 == p && $2 == "jq json" { print $5 }' "$RESULTS" | sort -n | tail -1)"
    else
        skip "$pods" "jq json" "$WHY"
    fi
    if [ "$PYTHON" != 1 ]; then
        skip "$pods" "python json" "skipped: PYTHON=0"
    elif fits python "$pods"; then
        run "$pods" "python json" "$json_bytes" python3 -c "$PY_FILTER" "$JSON" "$NOW"
        learn python "$pods" "$(awk -F '\t' -v p="$pods" '$1 == p && $2 == "python json" { print $5 }' "$RESULTS" | sort -n | tail -1)"
    else
        skip "$pods" "python json" "$WHY"
    fi
    run "$pods" "limit json" "$json_bytes" "$LIMIT" json "$JSON"
    run "$pods" "limit yaml" "$yaml_bytes" "$LIMIT" yaml "$YAML"
done
# An expansion error ends the loop above without ending the script: check that every size ran.
for pods in "${PODS_LIST[@]}"; do
    grep -q "^$pods	limit yaml	" "$RESULTS" || die "the measurements at $pods pods did not finish"
done

# --- the table -------------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
python3 - "$RESULTS" "$SKIPS" "$NOTES" "$SEED" <<'EOF' | tee "$OUT"
import collections, statistics, sys
results, skips, notes, seed = sys.argv[1:]
MODES = ["rounds live", "rounds json", "rounds yaml", "kubectl+jq live", "jq json", "python json",
         "limit json", "limit yaml"]
PEER = {"rounds live": "kubectl+jq live", "rounds json": "jq json", "rounds yaml": "jq json"}
LIMIT = {"rounds json": "limit json", "rounds yaml": "limit yaml"}
runs = collections.defaultdict(list)
parsers = {}
for line in open(results):
    pods, mode, _, secs, kib, requests, size = line.rstrip("\n").split("\t")
    runs[(int(pods), mode)].append((float(secs), int(kib) / 1024, requests, int(size)))
med = {}
for key, v in runs.items():
    secs = statistics.median(s for s, *_ in v)
    med[key] = {"secs": secs, "mib": statistics.median(m for _, m, *_ in v),
                "requests": v[-1][2], "mbps": v[0][3] / 1e6 / secs if secs > 0 else float("inf"),
                "n": len(v)}
skipped = {}
for line in open(skips):
    pods, mode, why = line.rstrip("\n").split("\t")
    skipped[(int(pods), mode)] = why
sizes = sorted({p for p, _ in med} | {p for p, _ in skipped})
snap = {}
server = []
for line in open(notes):
    if line.startswith("snapshot\t"):
        _, p, y, j = line.split("\t")
        snap[int(p)] = (int(y) / 1048576, int(j) / 1048576)
    else:
        server.append(line.strip())

def ratio(a, b, key):
    return f"{a[key] / b[key]:.2f}×" if a and b and b[key] else ""

print("| pods | mode | wall s | peak RSS MiB | requests | MB/s | time ÷ peer | RSS ÷ peer | MB/s ÷ limit |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for p in sizes:
    for mode in MODES:
        m = med.get((p, mode))
        if m is None:
            why = skipped.get((p, mode))
            if why:
                print(f"| {p} | {mode} | {why} | | | | | | |")
            continue
        live = mode.endswith("live")
        mbps = "" if live else f"{m['mbps']:.0f}"
        peer, limit = med.get((p, PEER.get(mode))), med.get((p, LIMIT.get(mode)))
        tp = ratio(m, peer, "secs")
        mp = ratio(m, peer, "mib")
        if mode in PEER and peer is None:
            tp = mp = f"({PEER[mode]} {'skipped' if (p, PEER[mode]) in skipped else 'not run'})"
        tl = ratio(m, limit, "mbps")
        print(f"| {p} | {mode} | {m['secs']:.2f} | {m['mib']:.1f} | {m['requests']} | {mbps} "
              f"| {tp} | {mp} | {tl} |")
print()
print("Peak RSS growth of rounds:", end=" ")
big = [p for p in sizes if p >= 10000]
base = big[0] if len(big) >= 2 else sizes[0]
top = sizes[-1]
parts = []
for mode in ("rounds live", "rounds json", "rounds yaml"):
    a, b = med.get((base, mode)), med.get((top, mode))
    if a and b and top != base:
        parts.append(f"{mode} {a['mib']:.1f} → {b['mib']:.1f} MiB ({b['mib'] / a['mib']:.2f}×)")
    else:
        parts.append(f"{mode} n/a")
print(f"{base} → {top} pods: " + "; ".join(parts) + ".")
print()
print("Snapshots (seed " + seed + "): " + "; ".join(
    f"{p} pods: YAML {y:.0f} MiB, JSON {j:.0f} MiB" for p, (y, j) in sorted(snap.items())) + ".")
runs_at = {p: max(m["n"] for (q, _), m in med.items() if q == p) for p in sizes if any(q == p for q, _ in med)}
print("Median of " + ", ".join(f"{n} run(s) at {p} pods" for p, n in runs_at.items()) +
      ". rounds: end-to-end wall time of `rounds plan`, the file in the page cache; "
      "MB/s = file bytes / wall s. kubectl+jq RSS is the sum of both processes' peaks where "
      "they ran as a pipe. Peers for rounds yaml: jq on the JSON of the same cluster. limit: rounds-bench-limit, parse time only (file read into memory "
      "first; RSS includes the file); limit json = serde_json into IgnoredAny, limit yaml = "
      "libyaml (unsafe-libyaml) events only. requests: served by the test API server.")
for line in server:
    print(line + ".")
EOF
log "table written to $OUT; done in $((SECONDS - START))s"
