"""The purposes: their rules, live responses and how many expire within 7 and 30 days."""

from __future__ import annotations

from flask import render_template

from feedbackvault.policies.ropa import build_register, describe_duration
from feedbackvault.policies.ropa_texts import TEXTS
from feedbackvault.services.purpose_overview import purpose_overview
from feedbackvault.web.console.blueprint import REQUEST_READERS, bp
from feedbackvault.web.context import services
from feedbackvault.web.i18n import language
from feedbackvault.web.sessions import require_roles


@bp.route("/purposes")
@require_roles(*REQUEST_READERS)
def purposes() -> str:
    """Show each purpose with its retention, notices, live counts and expiry forecast."""
    built = services()
    lang = language()
    register = build_register(built.policies, lang)
    texts = TEXTS[register.language]
    return render_template(
        "console/purposes.html",
        rows=purpose_overview(built.stores, built.policies, built.clock),
        sections={section.code: section for section in register.purposes},
        duration=lambda d: describe_duration(d, lang),
        # The rules that decide what happens to responses; the register has the rest.
        keep={
            texts.retention,
            texts.consent_retention,
            texts.on_expiry,
            texts.legal_basis,
            texts.personal_data,
        },
    )
