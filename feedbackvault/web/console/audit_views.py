"""The audit log for privacy officers and auditors: browse, filter, verify the chain."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from feedbackvault.crypto.errors import KeyProviderError
from feedbackvault.crypto.signing import ReceiptSigner
from feedbackvault.domain.audit import GENESIS_HASH, AuditFilter
from feedbackvault.services.audit import anchor_head, browse, verify_stretch
from feedbackvault.web.console.blueprint import REQUEST_READERS, bp
from feedbackvault.web.context import services
from feedbackvault.web.sessions import require_roles

# The acts the service records, offered as suggestions; any well-formed action filters.
KNOWN_ACTIONS = (
    "account.created",
    "account.disabled",
    "account.login",
    "account.login_failed",
    "account.login_refused_locked",
    "account.logout",
    "account.password_changed",
    "account.password_reset",
    "aggregates.released",
    "consent.withdrawn",
    "erasures.replayed",
    "follow_up.done",
    "follow_up.listed",
    "follow_up.shown",
    "keys.destroyed",
    "keys.orphans_shredded",
    "keys.rotated",
    "privacy_centre.link_sent",
    "privacy_centre.outcome_sent",
    "privacy_centre.request_sent",
    "releases.published",
    "request.created",
    "request.export_downloaded",
    "request.extended",
    "request.fulfilled",
    "request.rejected",
    "request.verified",
    "response.recorded",
    "retention.shredded",
    "retention.swept",
    "scores.released",
    "surveys.listed",
    "token.created",
    "token.revoked",
)
ACTION = re.compile(r"[a-z_]{1,30}(\.[a-z_]{1,30}){0,2}")
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,36}")
SUBJECT_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Entries checked per request by "verify chain": a few seconds' work on a busy server.
VERIFY_STRETCH = 50_000
CHECKPOINT_SALT = "audit-verify-checkpoint"
# Keyset positions are sequence numbers; anything longer is not one.
SEQ = re.compile(r"[0-9]{1,18}")


def _text(name: str, pattern: re.Pattern[str], errors: dict[str, str]) -> str | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not pattern.fullmatch(value):
        errors[name] = _("Not a valid value for this filter.")
        return None
    return value


def _day(name: str, errors: dict[str, str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None
    if not 1970 <= day.year <= 9998:
        errors[name] = _("Give a date between 1970 and 9998.")
        return None
    return day


def _seq(name: str, errors: dict[str, str]) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not SEQ.fullmatch(value):
        errors[name] = _("Not a valid page.")
        return None
    return int(value)


def parse_filter() -> tuple[AuditFilter, int | None, int | None, dict[str, str]]:
    """Read the filters and the page position from the address, with an error per field."""
    errors: dict[str, str] = {}
    where = AuditFilter(
        action=_text("action", ACTION, errors),
        request_id=_text("request", REQUEST_ID, errors),
        subject_ref=_text("subject", SUBJECT_REF, errors),
        from_day=_day("from", errors),
        to_day=_day("to", errors),
    )
    if where.from_day and where.to_day and where.from_day > where.to_day:
        errors["to"] = _("The end date is before the start date.")
    return where, _seq("older", errors), _seq("newer", errors), errors


@bp.route("/audit")
@require_roles(*REQUEST_READERS)
def audit() -> tuple[str, int]:
    """Show the audit log, newest first, a page at a time, narrowed by the filters."""
    where, older, newer, errors = parse_filter()
    page = None
    if not errors:
        page = browse(services().stores, where, older_than=older, newer_than=newer)
    filters = {
        name: request.args.get(name, "").strip()
        for name in ("action", "request", "subject", "from", "to")
    }
    return (
        render_template(
            "console/audit.html",
            page=page,
            errors=errors,
            filters=filters,
            filtered=any(filters.values()),
            actions=KNOWN_ACTIONS,
            check=None,
            next_token=None,
        ),
        400 if errors else 200,
    )


@bp.route("/audit/verify")
@require_roles(*REQUEST_READERS)
def verify_audit_chain() -> tuple[str, int]:
    """Check the chain a stretch at a time and say whether it is intact, or where it breaks.

    A GET: checking changes nothing, so auditors (read only) may run it too. Each
    request checks one stretch and hands the next request a signed checkpoint (the
    last good entry and its hash), so a million entries never make one long request
    and a hand-made checkpoint cannot skip a stretch.
    """
    signer = URLSafeSerializer(current_app.secret_key or "", salt=CHECKPOINT_SALT)
    after_seq, after_hash = 0, GENESIS_HASH
    token = request.args.get("at")
    if token:
        try:
            after_seq, after_hash = signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            abort(400)
    limit = int(current_app.config.get("AUDIT_VERIFY_STRETCH", VERIFY_STRETCH))
    check, stretch = verify_stretch(services().stores, int(after_seq), str(after_hash), limit)
    page = browse(services().stores, AuditFilter())
    return (
        render_template(
            "console/audit.html",
            page=page,
            errors={},
            filters={},
            filtered=False,
            actions=KNOWN_ACTIONS,
            check=check,
            checked_to=stretch.last_seq,
            head=page.entries[0].seq if page.entries else 0,
            next_token=None if check else signer.dumps([stretch.last_seq, stretch.last_hash]),
        ),
        200,
    )


@bp.route("/audit/anchor.json")
@require_roles(*REQUEST_READERS)
def download_anchor() -> Response:
    """Download the signed head of the chain, to keep outside the service."""
    registry = services()
    try:
        signer = ReceiptSigner(registry.key_provider.anchor_signing_key())
    except KeyProviderError:
        abort(404)
    anchor = anchor_head(registry.stores, signer, registry.clock)
    answer = current_app.response_class(
        json.dumps(anchor, separators=(",", ":")) + "\n", mimetype="application/json"
    )
    name = f"feedbackvault-audit-anchor-{anchor['seq']}.json"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer
