#!/usr/bin/env bash
# Builds the rounds image with podman: the static binary is built by cargo on this machine, then
# the Containerfile's `prebuilt` path puts it into a FROM scratch image. (Our machines reach no
# registry, so the Containerfile's own build stage, which compiles in the Rust image, cannot run
# here; a user with a registry runs `podman build -t rounds .` instead.)
#
#   scripts/build-image.sh                      # builds localhost/rounds:dev
#   IMAGE=localhost/rounds:test scripts/build-image.sh
#   NO_CARGO=1 scripts/build-image.sh           # reuse the binary cargo built last time
#
# Prints the image reference on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-localhost/rounds:dev}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
TRIPLE=x86_64-unknown-linux-gnu
# podman as root in our sandbox needs runc, no default rlimits and cgroupfs (see the file).
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}

command -v podman >/dev/null || { echo "podman is required (apt-get install podman runc)" >&2; exit 1; }

# glibc linked statically (static-pie). The musl target would do as well, but it is not
# installed on our machines and rustup cannot download it here.
if [ "${NO_CARGO:-}" != 1 ]; then
  RUSTFLAGS='-C target-feature=+crt-static' nice -n 10 \
    cargo build --release --locked --target "$TRIPLE" -p rounds >&2
fi
BIN=$TARGET_DIR/$TRIPLE/release/rounds
[ -x "$BIN" ] || { echo "no binary at $BIN (run without NO_CARGO=1)" >&2; exit 1; }
# A dynamically linked binary names its loader in a PT_INTERP header; a static one has none.
if od -An -c -N 4096 "$BIN" | tr -d ' \n' | grep -q 'ld-linux'; then
  echo "$BIN is not statically linked: it cannot run FROM scratch" >&2
  exit 1
fi

# The build context holds only the binary.
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
install -D -m 0755 "$BIN" "$CONTEXT/bin/rounds"
podman build --quiet --build-arg BINARY=prebuilt -f Containerfile -t "$IMAGE" "$CONTEXT" >/dev/null
echo "image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes; binary: $(stat -c %s "$BIN") bytes" >&2
echo "$IMAGE"
