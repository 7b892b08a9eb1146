#!/usr/bin/env bash
# Refreshes public/docs/scalar.js, the Scalar API reference (MIT) served by GET /docs, from the
# npm package's self-contained browser build. Vendored rather than installed: the package pulls
# ~240 MB of dependencies for this one 3.5 MB file, and /docs must work offline (no CDN).
# Usage: scripts/vendor-scalar.sh [version]   (default: the version in public/docs/scalar.js)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(sed -n 's/^ \* @scalar\/api-reference \([0-9.]*\)$/\1/p' public/docs/scalar.js)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@scalar/api-reference@$version" >/dev/null && tar -xzf scalar-api-reference-*.tgz)
cp "$tmp/package/dist/browser/standalone.js" public/docs/scalar.js
grep -q '"license": "MIT"' "$tmp/package/package.json" || { echo "vendor-scalar: the licence is no longer MIT: check it" >&2; exit 1; }
sha256sum public/docs/scalar.js
