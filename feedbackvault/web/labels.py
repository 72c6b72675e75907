"""The words for kinds, statuses, channels and roles, translated once per page."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _


def labels() -> dict[str, dict[str, str]]:
    """Return every label in the page's language, built at most once per request.

    A queue page shows a kind, a status and a channel on each of its 50 rows; a
    translation lookup per cell cost more than the database (bench_console.py).
    """
    cached: dict[str, dict[str, str]] | None = g.get("labels")
    if cached is None:
        cached = {
            "kind": {
                "access": _("Access"),
                "erasure": _("Erasure"),
                "rectification": _("Rectification"),
            },
            "kind_title": {
                "access": _("Access request"),
                "erasure": _("Erasure request"),
                "rectification": _("Rectification request"),
            },
            "status": {
                "received": _("Received"),
                "verified": _("Verified"),
                "completed": _("Completed"),
                "rejected": _("Rejected"),
                "overdue": _("Overdue"),
            },
            "channel": {
                "api": _("API"),
                "console": _("Console"),
                "privacy_centre": _("Privacy centre"),
                "unknown": _("Unknown"),
            },
            "role": {
                "privacy_officer": _("Privacy officer"),
                "auditor": _("Auditor (read only)"),
                "analyst": _("Analyst"),
                "follow_up": _("Follow-up"),
            },
        }
        g.labels = cached
    return cached
