"""The roles an API token can hold."""

from __future__ import annotations

# collector: survey front-ends; privacy_officer: data-subject requests and the audit
# log; analyst: anonymised scores; follow_up: contacting respondents where the purpose
# allows it. Kept here so the CLI can list them without loading
# the token service and its storage.
ROLES = ("collector", "privacy_officer", "analyst", "follow_up")
