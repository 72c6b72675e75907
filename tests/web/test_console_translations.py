"""The Dutch and English catalogues: complete, and the shipped .mo files compiled from them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from feedbackvault.web.i18n import LANGUAGES, TRANSLATIONS


def _key(value: object) -> object:
    """Make plural entries (lists in .mo, tuples in .po) comparable."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _catalogues(lang: str) -> tuple[Path, Path]:
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    return folder / "messages.po", folder / "messages.mo"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_is_translated_and_none_is_fuzzy(lang: str) -> None:
    po, _ = _catalogues(lang)
    catalogue = read_po(io.BytesIO(po.read_bytes()), locale=lang)
    untranslated = [
        m.id
        for m in catalogue
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert (untranslated, fuzzy) == ([], [])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_mo_file_holds_what_the_po_file_says(lang: str) -> None:
    po, mo = _catalogues(lang)
    source = read_po(io.BytesIO(po.read_bytes()), locale=lang)
    compiled = read_mo(io.BytesIO(mo.read_bytes()))
    expected = {_key(m.id): _key(m.string) for m in source if m.id}
    shipped = {_key(m.id): _key(m.string) for m in compiled if m.id}
    assert shipped == expected, "run tools/translations.sh compile"


def test_the_template_holds_every_string_of_the_catalogues() -> None:
    template = read_po(io.BytesIO((TRANSLATIONS / "messages.pot").read_bytes()))
    ids = {m.id for m in template if m.id}
    for lang in LANGUAGES:
        po, _ = _catalogues(lang)
        assert {m.id for m in read_po(io.BytesIO(po.read_bytes())) if m.id} == ids
