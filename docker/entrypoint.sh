#!/bin/sh
# Migrate both stores (and create file keys when the file provider is used), then start.
set -eu
feedbackvault init
exec "$@"
