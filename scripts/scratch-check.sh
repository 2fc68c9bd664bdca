#!/usr/bin/env bash
# Builds the static binary the Containerfile builds and runs it in an empty root (chroot), the
# way a FROM scratch image runs it: a round on the demo snapshot, then a live round against the
# test API server over HTTPS. No Docker engine is needed (none runs on our machines).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target x86_64-unknown-linux-gnu -p rounds
cargo build --locked -p rounds-test-apiserver
BIN=$TARGET/x86_64-unknown-linux-gnu/release/rounds
file "$BIN" | grep -q 'static' || { echo "not a static binary: $(file "$BIN")" >&2; exit 1; }

ROOT=$(mktemp -d); trap 'kill $SERVER 2>/dev/null || true; rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/etc/rounds" "$ROOT/demo" "$ROOT/tmp"
cp "$BIN" "$ROOT/rounds"
cp -r playbooks "$ROOT/etc/rounds/playbooks"
cp tests/fixtures/demo-cluster/* "$ROOT/demo/"
echo "root holds: $(cd "$ROOT" && find . -type f | wc -l) files, $(du -sh "$ROOT/rounds" | cut -f1) binary"

chroot "$ROOT" /rounds plan --snapshot /demo --playbooks /etc/rounds/playbooks \
  --now 2026-11-22T10:00:00Z --output json > "$ROOT/tmp/snapshot.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['summary']['findings'] > 0, r; print('snapshot round from scratch:', r['summary'])" "$ROOT/tmp/snapshot.json"

$TARGET/debug/rounds-test-apiserver --snapshot tests/fixtures/demo-cluster --kubeconfig "$ROOT/tmp/kubeconfig" > "$ROOT/tmp/url" &
SERVER=$!
for _ in $(seq 50); do [ -s "$ROOT/tmp/kubeconfig" ] && break; sleep 0.1; done
chroot "$ROOT" /rounds plan --kubeconfig /tmp/kubeconfig --playbooks /etc/rounds/playbooks \
  --now 2026-11-22T10:00:00Z --output json > "$ROOT/tmp/live.json"
python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a['actions']==b['actions']; print('live round from scratch over HTTPS:', a['summary'])" "$ROOT/tmp/live.json" "$ROOT/tmp/snapshot.json"
