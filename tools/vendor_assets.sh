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

# Swagger UI for /docs: the bundle, its stylesheet and their licences, nothing else.
SWAGGER_UI_VERSION="5.36.0"
SWAGGER_DEST="$DEST/swagger-ui"
(cd "$work" && npm pack --silent "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null \
    && mkdir swagger && tar xzf "swagger-ui-dist-${SWAGGER_UI_VERSION}.tgz" -C swagger)
mkdir -p "$SWAGGER_DEST"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
    cp "$work/swagger/package/$file" "$SWAGGER_DEST/$file"
done
echo "swagger-ui-dist ${SWAGGER_UI_VERSION}" >> "$DEST/VERSIONS"
echo "vendored swagger-ui-dist ${SWAGGER_UI_VERSION} into ${SWAGGER_DEST}"

# axe-core for the browser tests to inject (tests only; not shipped in the package).
AXE_CORE_VERSION="4.14.1"
AXE_DEST="tests/web/vendor/axe-core"
(cd "$work" && npm pack --silent "axe-core@${AXE_CORE_VERSION}" >/dev/null \
    && mkdir axe && tar xzf "axe-core-${AXE_CORE_VERSION}.tgz" -C axe)
mkdir -p "$AXE_DEST"
for file in axe.min.js LICENSE LICENSE-3RD-PARTY.txt; do
    cp "$work/axe/package/$file" "$AXE_DEST/$file"
done
echo "axe-core ${AXE_CORE_VERSION}" > "$AXE_DEST/VERSION"
echo "vendored axe-core ${AXE_CORE_VERSION} into ${AXE_DEST}"
