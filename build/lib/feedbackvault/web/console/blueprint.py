"""The console blueprint and who may see what."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for

from feedbackvault.domain.errors import FeedbackVaultError
from feedbackvault.web.pages import before_page, domain_failed

bp = Blueprint("console", __name__, url_prefix="/console")
bp.before_request(before_page)
bp.register_error_handler(FeedbackVaultError, domain_failed)

OFFICER = "privacy_officer"
AUDITOR = "auditor"
ANALYST = "analyst"
FOLLOW_UP = "follow_up"
# API.md: auditors see what privacy officers see, and change nothing.
REQUEST_READERS = (OFFICER, AUDITOR)
# The first page of each role; pages other branches add are used once they exist.
HOME_ENDPOINTS = {
    OFFICER: "console.requests",
    AUDITOR: "console.requests",
    ANALYST: "console.scores",
    FOLLOW_UP: "console.follow_up",
}


def home_for(role: str) -> str:
    """Return the address of a role's first page (the account page if it has none yet)."""
    endpoint = HOME_ENDPOINTS.get(role, "console.account")
    if endpoint not in current_app.view_functions:
        endpoint = "console.account"
    return url_for(endpoint)
