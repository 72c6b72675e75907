#!/usr/bin/env bash
# Keep the console's catalogues in step with the code: extract every string, merge it
# into the Dutch and English .po files, and compile the .mo files the package ships.
#   tools/translations.sh           extract + update + compile
#   tools/translations.sh compile   compile only (after editing a .po file)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
DIR="feedbackvault/web/translations"

if [ "${1:-}" != "compile" ]; then
    "$PYBABEL" extract -F tools/babel.cfg -k _l -k lazy_gettext --no-location \
        --sort-output --project feedbackvault -o "$DIR/messages.pot" .
    for lang in nl en; do
        if [ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]; then
            "$PYBABEL" update --no-fuzzy-matching --ignore-obsolete -i "$DIR/messages.pot" -d "$DIR" -l "$lang"
        else
            "$PYBABEL" init -i "$DIR/messages.pot" -d "$DIR" -l "$lang"
        fi
    done
fi
"$PYBABEL" compile --statistics -d "$DIR"
