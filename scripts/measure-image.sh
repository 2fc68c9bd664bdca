#!/usr/bin/env bash
# The figures the shipping note gives: the static binary's size, the image's size, and the
# start-up time (from starting the process to its first API connection), for the binary run
# directly and for the image run by podman as the CronJob's pod would run it.
#
#   scripts/measure-image.sh                 # builds the image first (scripts/build-image.sh)
#   NO_BUILD=1 IMAGE=localhost/rounds:test scripts/measure-image.sh
#   REPEAT=5                                 # runs per figure; the median is printed
#
# The "API server" is a listener on 127.0.0.1 that notes when the first connection arrives and
# then closes it: rounds has read its config and playbooks, built its client and dialled, which
# is everything a round does before it asks the cluster anything.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
REPEAT=${REPEAT:-5}
IMAGE=${IMAGE:-localhost/rounds:dev}
TRIPLE=x86_64-unknown-linux-gnu
BIN=${CARGO_TARGET_DIR:-target}/$TRIPLE/release/rounds
if [ "${NO_BUILD:-}" != 1 ]; then
  IMAGE=$(IMAGE=$IMAGE scripts/build-image.sh | tail -n 1)
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# first_connect CMD...: seconds from starting CMD to the first connection on the listener.
first_connect() {
  /usr/bin/python3 - "$WORK/port" "$WORK/seconds" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(60)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); t = time.time(); c.close()
open(sys.argv[2], "w").write(repr(t))
EOF
  local listener=$!
  while [ ! -s "$WORK/port" ]; do sleep 0.01; done
  local port start
  port=$(cat "$WORK/port")
  cat > "$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:$port"}}]
users: [{name: u, user: {token: measure}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: rounds}}]
current-context: c
EOF
  start=$(/usr/bin/python3 -c 'import time; print(repr(time.time()))')
  "$@" >/dev/null 2>&1 || true
  wait "$listener"
  /usr/bin/python3 -c "print('%.3f' % ($(cat "$WORK/seconds") - $start))"
  rm -f "$WORK/port" "$WORK/seconds"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

binary_run() {
  first_connect "$BIN" plan --kubeconfig "$WORK/kubeconfig" --playbooks playbooks --output json
}
image_run() {
  first_connect podman run --rm --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges --user 65532:65532 \
    -v "$PWD/playbooks:/etc/rounds/playbooks:ro" -v "$WORK/kubeconfig:/kubeconfig:ro" \
    "$IMAGE" plan --kubeconfig /kubeconfig --playbooks /etc/rounds/playbooks --output json
}

binary_size=$(stat -c %s "$BIN")
image_size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
bin_times=$(for _ in $(seq "$REPEAT"); do binary_run; done | median)
img_times=$(for _ in $(seq "$REPEAT"); do image_run; done | median)
printf 'binary size   %s bytes (%.1f MiB)\n' "$binary_size" "$(echo "$binary_size / 1048576" | bc -l)"
printf 'image size    %s bytes (%.1f MiB)\n' "$image_size" "$(echo "$image_size / 1048576" | bc -l)"
printf 'start-up to the first API connection (median of %s): binary %ss, image via podman %ss\n' \
  "$REPEAT" "$bin_times" "$img_times"
