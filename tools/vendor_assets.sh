#!/usr/bin/env bash
# Vendor the browser assets of the web console from the npm registry, once, into the
# package: no page may load anything from a CDN. Re-run after changing a version.
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION="2.0.11"
DEST="feedbackvault/web/static/vendor"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null && tar xzf "htmx.org-${HTMX_VERSION}.tgz")
mkdir -p "$DEST"
cp "$work/package/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$work/package/LICENSE" "$DEST/htmx.LICENSE"
echo "htmx.org ${HTMX_VERSION}" > "$DEST/VERSIONS"
echo "vendored htmx.org ${HTMX_VERSION} into ${DEST}"
