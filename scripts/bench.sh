#!/usr/bin/env bash
# Benchmark `rounds plan` on a generated big-cluster snapshot (YAML and JSON) against what a user
# would otherwise write: a jq filter and a Python json.load one-liner looking for OOMKilled and
# CrashLoopBackOff pods. Reports median wall time and peak RSS over REPEAT runs, and ratios.
#
# Environment knobs:
#   PODS=50000        pods in the snapshot (nodes = PODS/100)
#   REPEAT=3          runs per command; the median is reported
#   SEED=1            generator seed
#   KEEP=1            keep the temp dir with the snapshots and reports
#   LIVE=0            skip the live part (rounds against the test API server vs kubectl | jq)
#   CARGO_TARGET_DIR  where cargo builds (default: the repo's target/)
set -euo pipefail

PODS=${PODS:-50000}
REPEAT=${REPEAT:-3}
SEED=${SEED:-1}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
ROUNDS=$TARGET/release/rounds
START=$SECONDS

log() { printf '[bench %3ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools: GNU time gives peak RSS (%M); jq is one of the peers ----------------------------
need_pkg() { # command, package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "$1 is missing; install the $2 package"
    log "installing $2"
    apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
}
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
need_pkg jq jq
need_pkg python3 python3

# --- build ------------------------------------------------------------------------------------
log "building rounds (release) in $TARGET"
(cd "$REPO" && CARGO_TARGET_DIR=$TARGET cargo build --release --quiet -p rounds -p rounds-test-apiserver)
[ -x "$ROUNDS" ] || die "no binary at $ROUNDS"

# --- snapshots: outside the repo; both formats at once (two cores) --------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rounds-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then log "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
YAML=$WORK/cluster.yaml
JSON=$WORK/cluster.json
log "generating $PODS pods as YAML and JSON in $WORK"
python3 "$REPO/scripts/gen-snapshot.py" --pods "$PODS" --seed "$SEED" --format yaml --out "$YAML" 2>"$WORK/gen-yaml.err" &
gen_yaml=$!
python3 "$REPO/scripts/gen-snapshot.py" --pods "$PODS" --seed "$SEED" --format json --out "$JSON" 2>"$WORK/gen-json.err" &
gen_json=$!
wait $gen_yaml || { cat "$WORK/gen-yaml.err" >&2; die "YAML generation failed"; }
wait $gen_json || { cat "$WORK/gen-json.err" >&2; die "JSON generation failed"; }
cat "$WORK/gen-yaml.err" >&2
NOW=$(awk '/^reference-time:/ {print $2}' "$WORK/gen-yaml.err")
[ -n "$NOW" ] || die "the generator printed no reference time"
mib() { echo $(( $(stat -c %s "$1") / 1048576 )); }
log "YAML $(mib "$YAML") MiB, JSON $(mib "$JSON") MiB, reference time $NOW"

# --- measurement --------------------------------------------------------------------------------
# The peers: the same naive filter in jq and in Python (what users would otherwise run).
JQ_FILTER='[.items[] | select(.kind=="Pod") | select(any(.status.containerStatuses[]?; .lastState.terminated.reason=="OOMKilled" or .state.waiting.reason=="CrashLoopBackOff")) | .metadata.name]'
PY_FILTER='import json,sys
def g(o, *keys):
    for k in keys: o = (o or {}).get(k)
    return o
d=json.load(open(sys.argv[1]))
print(json.dumps([i["metadata"]["name"] for i in d["items"] if i["kind"]=="Pod" and any(g(c,"lastState","terminated","reason")=="OOMKilled" or g(c,"state","waiting","reason")=="CrashLoopBackOff" for c in g(i,"status","containerStatuses") or [])]))'

RESULTS=$WORK/results.tsv
: >"$RESULTS"

# run NAME INPUT CMD...: REPEAT timed runs; stdout goes to $WORK/out (not /dev/null, so the result
# can be checked; writing a small report costs nothing next to reading the snapshot).
run() {
    local name=$1 input=$2; shift 2
    local i
    for i in $(seq "$REPEAT"); do
        if ! /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err"; then
            cat "$WORK/err" >&2
            die "$name on $input failed: $*"
        fi
        read -r secs kib <"$WORK/time"
        check "$name" "$input"
        printf '%s\t%s\t%s\t%s\n' "$name" "$input" "$secs" "$kib" >>"$RESULTS"
        log "$name $input run $i: ${secs}s, $((kib / 1024)) MiB RSS, $FOUND found"
    done
}

# An empty result means we measured nothing useful: rounds must report findings, peers names.
check() {
    case $1 in
        rounds) FOUND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$WORK/out") ;;
        *) FOUND=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/out") ;;
    esac
    [ "$FOUND" -gt 0 ] || die "$1 on $2 found nothing"
    if [ -s "$WORK/err" ] && [ "$1" = rounds ]; then
        log "rounds printed on stderr:"; head -5 "$WORK/err" >&2
    fi
}

run rounds yaml "$ROUNDS" plan --snapshot "$YAML" --playbooks "$REPO/playbooks" --now "$NOW" --output json
run rounds json "$ROUNDS" plan --snapshot "$JSON" --playbooks "$REPO/playbooks" --now "$NOW" --output json
run jq json jq "$JQ_FILTER" "$JSON"
run python json python3 -c "$PY_FILTER" "$JSON"

# --- live: the same cluster behind the test API server (HTTPS, paginated lists) -------------
# rounds lists pods, nodes and jobs in pages and fetches evidence for findings; the peer is the
# script users write: `kubectl get pods -A -o json | jq`.
if [ "${LIVE:-1}" = 1 ]; then
    need_pkg kubectl kubectl
    log "starting the test API server on the JSON snapshot"
    "$TARGET/release/rounds-test-apiserver" --snapshot "$JSON" --kubeconfig "$WORK/kubeconfig" >"$WORK/server.url" 2>"$WORK/server.err" &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"' EXIT
    for _ in $(seq 600); do [ -s "$WORK/kubeconfig" ] && break; kill -0 $SERVER || die "the test API server died"; sleep 0.5; done
    [ -s "$WORK/kubeconfig" ] || die "the test API server did not start"
    mkdir -p "$WORK/home"
    run rounds live "$ROUNDS" plan --kubeconfig "$WORK/kubeconfig" --playbooks "$REPO/playbooks" --now "$NOW" --output json --qps 1000
    run kubectl+jq live env HOME="$WORK/home" sh -c "kubectl --kubeconfig '$WORK/kubeconfig' get pods -A -o json | jq '$JQ_FILTER'"
    kill $SERVER
fi

# --- report: medians and ratios --------------------------------------------------------------
python3 - "$RESULTS" "$PODS" "$REPEAT" "$(mib "$YAML")" "$(mib "$JSON")" <<'EOF'
import statistics, sys
path, pods, repeat, yaml_mib, json_mib = sys.argv[1:]
runs = {}
for line in open(path):
    tool, inp, secs, kib = line.split("\t")
    runs.setdefault((tool, inp), []).append((float(secs), int(kib) / 1024))
med = {k: (statistics.median(s for s, _ in v), statistics.median(m for _, m in v))
       for k, v in runs.items()}
size = {"yaml": yaml_mib, "json": json_mib}
print(f"\n{pods} pods; YAML {yaml_mib} MiB, JSON {json_mib} MiB; median of {repeat} run(s)\n")
print(f"{'tool':<8} {'input':<6} {'wall s':>8} {'peak RSS MiB':>13}")
for (tool, inp), (s, m) in med.items():
    print(f"{tool:<8} {inp:<6} {s:>8.2f} {m:>13.1f}")
print(f"\n{'rounds vs peer':<30} {'time ratio':>10} {'memory ratio':>13}   (rounds / peer; < 1 is better)")
for inp in ("yaml", "json"):
    rs, rm = med[("rounds", inp)]
    for peer in ("jq", "python"):
        ps, pm = med[(peer, "json")]
        print(f"{'rounds ' + inp + ' / ' + peer + ' json':<30} {rs / ps:>10.2f} {rm / pm:>13.3f}")
if ("rounds", "live") in med:
    rs, rm = med[("rounds", "live")]
    ps, pm = med[("kubectl+jq", "live")]
    print(f"{'rounds live / kubectl+jq live':<30} {rs / ps:>10.2f} {rm / pm:>13.3f}")
EOF
log "done in $((SECONDS - START))s"
