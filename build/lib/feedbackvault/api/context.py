"""Reach the composed services from inside a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from feedbackvault.app import Services

EXTENSION_KEY = "feedbackvault"


def services() -> Services:
    """Return the services the app factory built."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
