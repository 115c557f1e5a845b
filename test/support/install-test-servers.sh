#!/usr/bin/env bash
# Installs what the test servers need, only what is missing: the GCS emulator's npm packages and the
# system packages. Idempotent; run by `npm test` (pretest). Root runs apt-get directly, others through
# sudo; with CI=true or no terminal nothing prompts.
#
# To add a server: one `need COMMAND DEBIAN_PACKAGE` line below.
set -euo pipefail

# Azure: nothing here. Azurite is a devDependency (`npm install` installs it); test/support/azure/ starts it.

# GCS: firebase-tools' Storage emulator, npm packages of its own (test/support/gcs/emulator).
bash "$(dirname "$0")/gcs/install-emulator.sh"
# The @uppy/aws-s3 browser test: Uppy 5, npm packages of its own (test/support/browser/uppy-aws-s3).
bash "$(dirname "$0")/browser/install-uppy-aws-s3.sh"

packages=()
need() { command -v "$1" >/dev/null 2>&1 || packages+=("$2"); }

# S3: Ceph RADOS Gateway (test/support/s3/start-rgw.sh). Needed even when S3_TEST_ENDPOINT points the
# adapter tests at another server: the backend-fault tests kill and freeze a private RGW of their own.
need ceph-mon ceph-mon
need ceph-osd ceph-osd
need radosgw radosgw
need radosgw-admin radosgw
# Malware scanning: ClamAV's daemon (test/support/clamd/start-clamd.sh).
need clamd clamav-daemon
# deploy/attache.service is checked by systemd's own verifier (test/deploy/systemd-unit.test.ts).
need systemd-analyze systemd
# docs/clients.md's Python recipes (test/docs-clients.test.ts): Python 3 with requests.
python3 -c 'import requests' >/dev/null 2>&1 || packages+=(python3-requests)
# Shared limits: Valkey's protocol, served by Debian's redis-server (test/support/redis/redis-server.ts).
need redis-server redis-server
need redis-cli redis-tools
# Several instances behind a load balancer (test/support/cluster/haproxy.ts).
need haproxy haproxy
# A real browser showing an image through a stable link of a private bucket (test/browser/).
need chromium chromium

[[ ${#packages[@]} -eq 0 ]] && exit 0
# One package can provide several commands.
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-servers: no apt-get here; install ${packages[*]} yourself (see docs/development.md, 'Running the tests against another S3 server')," \
    "or set S3_TEST_ENDPOINT/S3_TEST_ACCESS_KEY/S3_TEST_SECRET_KEY to test against another S3 server." >&2
  exit 1
fi

interactive=true
if [[ "${CI:-}" == "true" || ! -t 0 ]]; then interactive=false; fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-servers: need root or sudo to install ${packages[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
  # Never wait for a password nobody can type.
  $interactive || sudo=(sudo -n)
fi

echo "install-test-servers: installing ${packages[*]} (Debian packages for the test servers)" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
