#!/bin/sh
# Migrate both stores (and create file keys when the file provider is used), then start.
# The databases may still be starting (or restarting): `feedbackvault init` is retried
# every FEEDBACKVAULT_INIT_DELAY seconds (default 2), FEEDBACKVAULT_INIT_TRIES times
# (default 30); then the container exits non-zero and `restart:` starts it again.
set -eu
tries="${FEEDBACKVAULT_INIT_TRIES:-30}"
delay="${FEEDBACKVAULT_INIT_DELAY:-2}"
attempt=1
until feedbackvault init; do
    if [ "$attempt" -ge "$tries" ]; then
        echo "entrypoint: feedbackvault init failed $attempt times; giving up (see the error above)" >&2
        exit 1
    fi
    echo "entrypoint: feedbackvault init failed (try $attempt of $tries); again in ${delay}s" >&2
    attempt=$((attempt + 1))
    sleep "$delay"
done
exec "$@"
