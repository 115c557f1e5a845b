#!/usr/bin/env bash
# Installs the GCS tests' server, firebase-tools' Cloud Storage emulator, into
# test/support/gcs/emulator/node_modules from the lock file beside it; only when it is missing or
# that lock file changed. Run by `npm test` (pretest, through install-test-servers.sh).
#
# firebase-tools is kept out of the project's devDependencies: ~640 packages that only these tests
# use would otherwise slow every `npm ci`, `npm start`'s first one included.
set -euo pipefail

dir="$(cd "$(dirname "$0")/emulator" && pwd)"
stamp="$dir/node_modules/.attache-installed-lock-sha256"
wanted="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
[[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && exit 0

echo "install-emulator: installing firebase-tools' Storage emulator for the GCS tests into $dir/node_modules (once)" >&2
# --ignore-scripts: the emulator loads no native module. The one install script in the tree that
# matters, re2's (for Firebase Hosting, unused here), compiles C++ for minutes when no prebuilt
# binary can be downloaded.
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund
echo "$wanted" >"$stamp"
