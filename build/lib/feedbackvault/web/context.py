"""Reach the composed services from inside a page request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from feedbackvault.app import Services

# The key the app factory stores the services under (as the API reads them).
EXTENSION_KEY = "feedbackvault"


def services() -> Services:
    """Return the services the app factory built."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
