#!/usr/bin/env bash
# Installs Uppy 5 with @uppy/aws-s3 5 into test/support/browser/uppy-aws-s3/node_modules from the
# lock file beside it; only when it is missing or that lock file changed. Run by `npm test`
# (pretest, through install-test-servers.sh).
#
# Apart from the project's devDependencies: their @uppy/core is 6 (XHRUpload, tus), and
# @uppy/aws-s3 5 needs @uppy/core 5 as its peer; @uppy/aws-s3 6 cannot be used instead, since it
# sends no header to its `companionEndpoint` (docs/direct-uploads.md#uppy-uppyaws-s3).
set -euo pipefail

dir="$(cd "$(dirname "$0")/uppy-aws-s3" && pwd)"
stamp="$dir/node_modules/.attache-installed-lock-sha256"
wanted="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
[[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && exit 0

echo "install-uppy-aws-s3: installing Uppy 5 and @uppy/aws-s3 5 for the browser tests into $dir/node_modules (once)" >&2
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund
echo "$wanted" >"$stamp"
