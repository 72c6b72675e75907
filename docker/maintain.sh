#!/bin/sh
# Run `feedbackvault maintain` every FEEDBACKVAULT_MAINTAIN_EVERY seconds (default 300).
# A failed run is reported and retried at the next interval; the loop itself keeps going.
# Each successful run touches a heartbeat file; `--healthy` (the compose healthcheck)
# succeeds while the last successful run is younger than three intervals.
set -u
every="${FEEDBACKVAULT_MAINTAIN_EVERY:-300}"
heartbeat="${FEEDBACKVAULT_MAINTAIN_HEARTBEAT:-/tmp/feedbackvault-maintain.ok}"
case "$every" in
    '' | *[!0-9]*)
        echo "maintain: FEEDBACKVAULT_MAINTAIN_EVERY is '$every'; set it to whole seconds, e.g. 300" >&2
        exit 2
        ;;
esac
if [ "$every" -lt 1 ]; then
    echo "maintain: FEEDBACKVAULT_MAINTAIN_EVERY must be at least 1 second" >&2
    exit 2
fi

if [ "${1:-}" = "--healthy" ]; then
    [ -f "$heartbeat" ] || exit 1
    age=$(( $(date +%s) - $(stat -c %Y "$heartbeat") ))
    [ "$age" -lt $((3 * every)) ]
    exit
fi

# Stop between runs at once on `docker compose stop` (sleep runs in the background).
trap 'exit 0' TERM INT
while :; do
    if feedbackvault maintain; then
        touch "$heartbeat"
    else
        echo "maintain: feedbackvault maintain failed (exit $?); next run in ${every}s" >&2
    fi
    sleep "$every" &
    wait $!
done
