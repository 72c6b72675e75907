"""The console: people's pages under /console (each module adds its routes to `bp`)."""

from feedbackvault.web.console import (
    account_views,
    audit_views,
    purpose_views,
    register_views,
    request_views,
    score_views,
)
from feedbackvault.web.console.blueprint import bp

__all__ = [
    "account_views",
    "audit_views",
    "bp",
    "purpose_views",
    "register_views",
    "request_views",
    "score_views",
]
