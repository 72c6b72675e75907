"""The privacy centre's forms; each carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from feedbackvault.services.privacy_centre import MAX_ADDRESS_CHARS
from feedbackvault.services.receipt_check import MAX_RECEIPT_CHARS

REQUIRED = _l("Fill in this field.")


def request_kinds() -> list[tuple[str, Any]]:
    """Name the two requests a respondent can make here, in the page's language."""
    return [
        ("access", _l("Access: a copy of all data held about you")),
        ("erasure", _l("Erasure: delete all data held about you")),
    ]


class SubjectRequestForm(FlaskForm):
    """An e-mail address and the kind of request."""

    email = StringField(
        _l("Your e-mail address"),
        [
            DataRequired(REQUIRED),
            Length(max=MAX_ADDRESS_CHARS),
            Regexp(r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$", message=_l("Give an e-mail address.")),
        ],
    )
    kind = RadioField(
        _l("What do you ask for?"),
        choices=request_kinds,
        validators=[DataRequired(_l("Choose access or erasure."))],
    )


class WithdrawForm(FlaskForm):
    """The receipt id and withdraw token from the consent receipt."""

    receipt_id = StringField(_l("Receipt id"), [DataRequired(REQUIRED), Length(max=64)])
    withdraw_token = StringField(_l("Withdraw token"), [DataRequired(REQUIRED), Length(max=200)])


class ReceiptForm(FlaskForm):
    """A pasted receipt (JSON)."""

    receipt = TextAreaField(
        _l("Your receipt (JSON)"), [DataRequired(REQUIRED), Length(max=MAX_RECEIPT_CHARS)]
    )


class ConfirmForm(FlaskForm):
    """A button that uses an e-mailed link: only its CSRF token."""
