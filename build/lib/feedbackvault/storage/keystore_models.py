"""Tables of the key store: wrapped per-subject data keys and the blind index.

The key store is a separate database so that a backup of the data database
holds nothing readable, and destroying a subject's rows here shreds them.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Integer, LargeBinary, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from feedbackvault.storage.data_models import NAMING, WITHOUT_ROWID
from feedbackvault.storage.types import UTCDateTime


class KeyStoreBase(DeclarativeBase):
    """Declarative base of the key-store database."""

    metadata = MetaData(naming_convention=NAMING)


class SubjectKey(KeyStoreBase):
    """A subject's data key, wrapped under a key-encryption key."""

    __tablename__ = "subject_key"
    __table_args__ = WITHOUT_ROWID

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dek_version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kek_id: Mapped[str] = mapped_column(String(64))
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubjectLookup(KeyStoreBase):
    """A keyed blind-index digest of one identifier, pointing at its subject."""

    __tablename__ = "subject_lookup"
    __table_args__ = WITHOUT_ROWID

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)


class KeyTombstone(KeyStoreBase):
    """The random id of a shredded subject, kept so a restored key store can be shredded again."""

    __tablename__ = "key_tombstone"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _table(model: type[KeyStoreBase]) -> Table:
    """Return a model's Core table, for the paths that run Core statements."""
    return cast(Table, model.__table__)


SUBJECT_KEY = _table(SubjectKey)
SUBJECT_LOOKUP = _table(SubjectLookup)
KEY_TOMBSTONE = _table(KeyTombstone)
