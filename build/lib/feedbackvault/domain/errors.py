"""Errors the use cases raise; their messages never carry personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class FeedbackVaultError(Exception):
    """Base of every error a use case raises on purpose."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(FeedbackVaultError):
    """The input breaks a rule; `errors` maps field paths to messages."""

    title = "Validation failed"

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str | None = None) -> None:
        super().__init__(detail or "The request does not satisfy the purpose's rules.")
        self.errors = {field: list(messages) for field, messages in errors.items()}


class NotFound(FeedbackVaultError):
    """The thing named does not exist (or is not visible)."""

    title = "Not found"


class Conflict(FeedbackVaultError):
    """The thing exists but its state does not allow the act."""

    title = "Conflict"


class Forbidden(FeedbackVaultError):
    """The caller is known but may not do this."""

    title = "Forbidden"
