"""The privacy centre's pages: purposes, notices, withdrawing, receipts and requests."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from feedbackvault.domain.errors import Conflict, Forbidden, NotFound
from feedbackvault.domain.purposes import NoticeText, Purpose
from feedbackvault.services.privacy_centre import (
    ACTOR,
    CONFIRM,
    DOWNLOAD,
    LinkInvalid,
    NotAccepting,
    RateLimited,
)
from feedbackvault.services.receipt_check import check_receipt
from feedbackvault.web import i18n
from feedbackvault.web.context import services
from feedbackvault.web.pages import before_page
from feedbackvault.web.privacy_centre import words
from feedbackvault.web.privacy_centre.forms import (
    ConfirmForm,
    ReceiptForm,
    SubjectRequestForm,
    WithdrawForm,
)

bp = Blueprint("privacy_centre", __name__, url_prefix="/privacy")
bp.before_request(before_page)
Page = str | tuple[str, int] | BaseResponse
# The export a download link delivers, named for the person saving it.
EXPORT_FILENAME = "my-data.json"


@bp.errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    """Answer an unknown notice or link with the privacy centre's own page."""
    del error
    return render_template("privacy/missing.html"), 404


def _notice_for(purpose: Purpose, version: str) -> NoticeText | None:
    return purpose.notice(version, i18n.language())


@bp.route("")
def index() -> Page:
    """Show who is responsible, each purpose in plain words, and the respondent's rights."""
    policies = services().policies
    purposes = []
    for purpose in policies.ordered():
        latest = purpose.notice_versions[-1]
        notice = _notice_for(purpose, latest)
        text = notice.text if notice else ""
        # The policy's description is English; a Dutch reader gets the notice's own words.
        in_language = notice is not None and notice.language == i18n.language()
        summary = words.notice_summary(text) if in_language else None
        purposes.append(
            {
                "id": purpose.id,
                "title": words.notice_title(text, purpose.description),
                "why": summary or purpose.description,
                "basis": words.BASIS_WORDS.get(purpose.legal_basis, purpose.legal_basis),
                "collected": words.collected(purpose),
                "retention": words.retention_words(purpose.retention),
                "who": words.who_sees(purpose),
                "versions": list(reversed(purpose.notice_versions)),
            }
        )
    return render_template(
        "privacy/index.html",
        controller=policies.controller,
        purposes=purposes,
        accepting=services().privacy_centre.accepting,
    )


@bp.route("/notices/<purpose_id>/<version>")
def notice(purpose_id: str, version: str) -> Page:
    """Show the exact text of one notice version, with its date and SHA-256."""
    purpose, text = _notice_or_404(purpose_id, version)
    languages = [t.language for t in purpose.notices.get(version, ())]
    return render_template(
        "privacy/notice.html",
        purpose=purpose,
        version=version,
        notice=text,
        body=words.render_notice(text.text),
        title=words.notice_title(text.text, purpose.description),
        date=words.version_date(version),
        languages=languages,
        other_language=text.language != i18n.language(),
    )


@bp.route("/notices/<purpose_id>/<version>/raw")
def notice_raw(purpose_id: str, version: str) -> Response:
    """Serve the notice's exact bytes (Markdown), the ones its SHA-256 is taken of."""
    _, text = _notice_or_404(purpose_id, version)
    response = Response(text.content, mimetype="text/markdown")
    response.headers["Content-Disposition"] = (
        f'inline; filename="{purpose_id}-{version}.{text.language}.md"'
    )
    response.headers["Content-Language"] = text.language
    return response


def _notice_or_404(purpose_id: str, version: str) -> tuple[Purpose, NoticeText]:
    purpose = services().policies.get(purpose_id)
    if purpose is None or not purpose.accepts_notice(version):
        abort(404)
    text = _notice_for(purpose, version)
    if text is None:
        abort(404)
    return purpose, text


@bp.route("/withdraw", methods=["GET", "POST"])
def withdraw() -> Page:
    """Withdraw a consent with the receipt id and withdraw token, and say what was erased."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("privacy/withdraw.html", form=form), status
    try:
        done = services().collection.withdraw(
            (form.receipt_id.data or "").strip(), (form.withdraw_token.data or "").strip(), ACTOR
        )
    except (NotFound, Forbidden):
        # One message for both: an unknown id and a wrong token look the same.
        form.withdraw_token.errors = [_("This receipt id and withdraw token do not match.")]
        return render_template("privacy/withdraw.html", form=form), 422
    return render_template("privacy/withdrawn.html", done=done)


@bp.route("/receipt", methods=["GET", "POST"])
def receipt() -> Page:
    """Check a pasted receipt's signature and show what it records."""
    form = ReceiptForm()
    result = None
    if form.validate_on_submit():
        result = check_receipt(form.receipt.data or "", services().signer, services().policies)
        # The paste may hold the withdraw token: never send it back to the page.
        form.receipt.data = ""
    status = 422 if request.method == "POST" and result is None else 200
    return render_template(
        "privacy/receipt.html",
        form=form,
        result=result,
        moment=_moment,
        public_key=services().signer.public_key_b64(),
    ), status


def _moment(value: str) -> Markup | str:
    """Show a receipt's moment as people read dates; a pasted value that is none, as given."""
    try:
        return i18n.when(value, with_time=True)
    except (ValueError, OverflowError):
        return value


@bp.route("/request", methods=["GET", "POST"])
def subject_request() -> Page:
    """Ask for access or erasure with an e-mail address; the answer is the same for anyone."""
    centre = services().privacy_centre
    form = SubjectRequestForm()
    controller = services().policies.controller
    if not centre.accepting:
        return render_template("privacy/request.html", form=None, controller=controller), (
            503 if request.method == "POST" else 200
        )
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("privacy/request.html", form=form, controller=controller), status
    try:
        centre.ask(form.email.data or "", form.kind.data or "", request.remote_addr or "unknown")
    except RateLimited:
        return render_template("privacy/limited.html"), 429
    except NotAccepting:
        return render_template("privacy/request.html", form=None, controller=controller), 503
    return redirect(url_for("privacy_centre.request_sent"), 303)


@bp.route("/request/sent")
def request_sent() -> Page:
    """Tell the requester to check their mailbox (shown whatever the address)."""
    return render_template("privacy/sent.html")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Page:
    """Confirm a request with the e-mailed link (a button, so mail scanners cannot use it)."""
    centre = services().privacy_centre
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            state = centre.confirm(token)
            return render_template("privacy/confirmed.html", state=state)
        pending = centre.pending(token, CONFIRM)
    except LinkInvalid as invalid:
        return _link_invalid(invalid)
    return render_template("privacy/confirm.html", form=form, pending=pending)


@bp.route("/export/<token>", methods=["GET", "POST"])
def export(token: str) -> Page:
    """Download an answered access request's export once with the e-mailed link."""
    centre = services().privacy_centre
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            try:
                chunks = centre.download(token)
            except (Conflict, NotFound):
                # The request behind the link is gone or changed: the link is spent.
                raise LinkInvalid("used") from None
            response = Response(chunks, mimetype="application/json")
            response.headers["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
            return response
        pending = centre.pending(token, DOWNLOAD)
    except LinkInvalid as invalid:
        return _link_invalid(invalid)
    return render_template("privacy/export.html", form=form, pending=pending)


def _link_invalid(invalid: LinkInvalid) -> tuple[str, int]:
    status = 404 if invalid.reason == "unknown" else 410
    return render_template("privacy/link_invalid.html", reason=invalid.reason), status
