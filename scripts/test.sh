#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Everything a test needs is installed or started here; no test skips because something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# kubectl drives the test API server in end-to-end tests; it is on the machine image.
command -v kubectl >/dev/null || { echo "kubectl is required for the end-to-end tests" >&2; exit 1; }

# A real Prometheus for the disk-usage source tests (Debian's package; the tests start it).
if ! command -v prometheus >/dev/null; then
  echo "installing prometheus (Debian package) for the Prometheus source tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi

# The image tests build and run the FROM scratch image with podman (runc; see scripts/containers.conf).
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "installing podman and runc (Debian packages) for the image tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman runc >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq \
         && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman runc >/dev/null; }
fi

# Real notification servers: an SMTP server (aiosmtpd, driven by scripts/smtp-server.py with
# STARTTLS and AUTH required) and Alertmanager. The tests start and stop them on 127.0.0.1.
if ! /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null || ! command -v prometheus-alertmanager >/dev/null; then
  echo "installing python3-aiosmtpd and prometheus-alertmanager (Debian packages) for the notification tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends python3-aiosmtpd prometheus-alertmanager >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends python3-aiosmtpd prometheus-alertmanager >/dev/null; }
fi

# A real Pushgateway for rounds' own metrics (Debian's package; the tests start it on a free
# port with their own persistence file; promtool comes with prometheus above).
if ! command -v prometheus-pushgateway >/dev/null; then
  echo "installing prometheus-pushgateway (Debian package) for the metrics tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus-pushgateway >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq \
         && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus-pushgateway >/dev/null; }
fi
command -v promtool >/dev/null || { echo "promtool (Debian's prometheus package) is required for the rule tests" >&2; exit 1; }

# In-cluster mode is tested in a private mount namespace (the service account under /run).
command -v unshare >/dev/null || { echo "unshare (util-linux) is required for the in-cluster tests" >&2; exit 1; }
# Endless snapshot inputs are tested under an address-space limit.
command -v prlimit >/dev/null || { echo "prlimit (util-linux) is required for the bounded-reading tests" >&2; exit 1; }

# Detector tests read the real-world dumps in ../shared/realworld (CI has them).
if [ ! -d ../shared/realworld ] && [ -z "${ROUNDS_REALWORLD_DIR:-}" ]; then
  echo "!!! ../shared/realworld is missing: the real-world detector tests will FAIL." >&2
  echo "!!! Set ROUNDS_REALWORLD_DIR to a copy of it." >&2
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The release build takes minutes: build the image once here, the image tests use it.
ROUNDS_IMAGE=$(IMAGE=localhost/rounds:test scripts/build-image.sh | tail -n 1)
export ROUNDS_IMAGE
cargo test --workspace --locked
