"""Say policy facts in plain words: retention periods, fields, notice dates."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import format_date, lazy_gettext, ngettext
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from feedbackvault.domain.durations import IsoDuration
from feedbackvault.domain.purposes import Purpose

# CommonMark with raw HTML off: a notice file can never put markup or script on the page.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_VERSION_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def render_notice(text: str) -> Markup:
    """Render a notice's Markdown to HTML, escaping any HTML the file contains."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - markdown-it escapes raw HTML (html off)


def notice_title(text: str, fallback: str) -> str:
    """Return the notice's first heading, the purpose's name in the reader's language."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def version_date(version: str) -> str | None:
    """Read a version like 2026-01 as its month ('januari 2026'), or None."""
    match = _VERSION_DATE.match(version)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        moment = date(year, month, day)
    except ValueError:
        return None
    return str(format_date(moment, "d MMMM y" if match[3] else "MMMM y"))


def retention_words(duration: IsoDuration) -> str:
    """Say a retention period as people do: '180 dagen', '1 year', '18 months'."""
    parts = [
        ngettext("%(num)d year", "%(num)d years", duration.years),
        ngettext("%(num)d month", "%(num)d months", duration.months),
        ngettext("%(num)d week", "%(num)d weeks", duration.weeks),
        ngettext("%(num)d day", "%(num)d days", duration.days),
        ngettext("%(num)d hour", "%(num)d hours", duration.hours),
        ngettext("%(num)d minute", "%(num)d minutes", duration.minutes),
        ngettext("%(num)d second", "%(num)d seconds", duration.seconds),
    ]
    counts = (
        duration.years, duration.months, duration.weeks, duration.days,
        duration.hours, duration.minutes, duration.seconds,
    )  # fmt: skip
    said = [part for part, count in zip(parts, counts, strict=True) if count]
    if not said:
        return str(_("no time at all"))
    if len(said) == 1:
        return str(said[0])
    return str(_("%(first)s and %(last)s", first=", ".join(said[:-1]), last=said[-1]))


FIELD_WORDS = {
    "email": lazy_gettext("your e-mail address"),
    "name": lazy_gettext("your name"),
    "customer_id": lazy_gettext("your customer number"),
    "comment": lazy_gettext("your comment"),
}
METRIC_WORDS = {
    "nps": lazy_gettext("how likely you are to recommend us (0-10)"),
    "csat": lazy_gettext("how satisfied you are (1-5)"),
    "ces": lazy_gettext("how easy it was (1-7)"),
}
BASIS_WORDS = {
    "consent": lazy_gettext("your consent, which you can withdraw at any time"),
    "contract": lazy_gettext("our contract with you"),
    "legal_obligation": lazy_gettext("a legal obligation"),
    "vital_interests": lazy_gettext("vital interests"),
    "public_task": lazy_gettext("a public task"),
    "legitimate_interests": lazy_gettext("our legitimate interests"),
}


def collected(purpose: Purpose) -> list[str]:
    """List what a purpose collects, in words."""
    metrics = [str(METRIC_WORDS[m]) for m in ("nps", "csat", "ces") if m in purpose.metrics]
    fields = [
        str(FIELD_WORDS[f])
        for f in ("email", "name", "customer_id", "comment")
        if f in purpose.personal_fields
    ]
    return metrics + [str(_("if you fill them in: %(fields)s", fields=", ".join(fields)))] * bool(
        fields
    )


def who_sees(purpose: Purpose) -> list[str]:
    """Say who sees the data of a purpose (staff roles, never names)."""
    seen = [str(_("Our privacy officers, to answer your requests."))]
    if purpose.follow_up:
        seen.append(str(_("Our support staff, to contact you about your feedback.")))
    if purpose.aggregate:
        seen.append(
            str(_("Analysts see only anonymous statistics with added noise, never your answers."))
        )
    else:
        seen.append(str(_("Your answers never feed statistics.")))
    return seen


def notice_summary(text: str) -> str | None:
    """Return the notice's first plain paragraph: why the data is asked, in its own words."""
    for block in text.split("\n\n"):
        line = " ".join(block.split())
        if line and not line.startswith(("#", "**", "-", "*", "|", ">")):
            return line
    return None
