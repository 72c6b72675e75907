"""The console's forms: fields, limits and messages; each carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from feedbackvault.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

REQUIRED = _l("Fill in this field.")
EMAIL = Regexp(r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$", message=_l("Give an e-mail address."))


def kind_choices() -> list[tuple[str, Any]]:
    """Name the request kinds in the page's language."""
    return [
        ("access", _l("Access (Art. 15)")),
        ("erasure", _l("Erasure (Art. 17)")),
        ("rectification", _l("Rectification (Art. 16)")),
    ]


class LoginForm(FlaskForm):
    """E-mail address and password."""

    email = StringField(_l("E-mail address"), [DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), [DataRequired(REQUIRED), Length(max=1024)])


class PasswordForm(FlaskForm):
    """Replace the password (the one-time password at the first login)."""

    current_password = PasswordField(_l("Current password"), [DataRequired(REQUIRED)])
    new_password = PasswordField(
        _l("New password"),
        [
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l(
                    "Use %(min)d to %(max)d characters.",
                    min=MIN_PASSWORD_LENGTH,
                    max=MAX_PASSWORD_LENGTH,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(REQUIRED), EqualTo("new_password", _l("The two new passwords differ."))],
    )


class ActForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class NewRequestForm(FlaskForm):
    """Record a request that arrived by letter, e-mail or phone."""

    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[DataRequired(REQUIRED)])
    email = StringField(
        _l("E-mail address of the data subject"), [Optional(), Length(max=254), EMAIL]
    )
    customer_id = StringField(_l("Customer number"), [Optional(), Length(max=100)])
    note = TextAreaField(
        _l("Note (not stored; only its length is logged)"), [Optional(), Length(max=2000)]
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Require one identifier at least (`Optional` fields skip their own checks)."""
        valid = bool(super().validate(extra_validators))
        if not (self.email.data or "").strip() and not (self.customer_id.data or "").strip():
            self.customer_id.errors = [
                *self.customer_id.errors,
                _l("Give an e-mail address or a customer number."),
            ]
            return False
        return valid


class VerifyForm(FlaskForm):
    """How the subject's identity was checked."""

    method = StringField(
        _l("How was the identity checked?"), [DataRequired(REQUIRED), Length(max=200)]
    )


class ReasonForm(FlaskForm):
    """A reason, for an extension or a rejection (stored in clear: no personal data)."""

    reason = TextAreaField(_l("Reason"), [DataRequired(REQUIRED), Length(max=500)])


class ErasureForm(FlaskForm):
    """The second, confirming step of an erasure."""

    # Empty unless sent by the confirmation page's button: a bare POST erases nothing.
    confirm = HiddenField()


class RectifyForm(FlaskForm):
    """Corrected fields of a rectification."""

    email = StringField(_l("Corrected e-mail address"), [Optional(), Length(max=254), EMAIL])
    name = StringField(_l("Corrected name"), [Optional(), Length(max=200)])
    customer_id = StringField(_l("Corrected customer number"), [Optional(), Length(max=100)])

    def validate(self, extra_validators: Any = None) -> bool:
        """Require one corrected field at least (`Optional` fields skip their own checks)."""
        valid = bool(super().validate(extra_validators))
        given = [self.email.data, self.name.data, self.customer_id.data]
        if not any((value or "").strip() for value in given):
            self.email.errors = [*self.email.errors, _l("Give at least one corrected field.")]
            return False
        return valid
