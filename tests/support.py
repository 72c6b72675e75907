"""Small builders and probes shared by the tests."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from feedbackvault.app import Services

START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


@dataclass
class FrozenClock:
    """A clock that stands still until a test moves it."""

    moment: datetime = START

    def now(self) -> datetime:
        """Return the frozen moment."""
        return self.moment

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.moment += timedelta(**delta)


BASE_BODY: dict[str, Any] = {
    "survey_id": "checkout-2026-q4",
    "purpose": "service-improvement",
    "consent": {"opt_in": True, "notice_version": "2026-01", "given_at": "2026-11-24T09:59:00Z"},
    "respondent": {"email": "an@example.nl", "name": "An de Vries", "customer_id": "C-1042"},
    "answers": {"nps": 9, "csat": 4, "ces": 6, "comment": "Snel geholpen."},
    "touchpoint": "checkout",
    "locale": "nl-NL",
}


def submission(**overrides: Any) -> dict[str, Any]:
    """Build a valid submission body; `None` as an override value removes the key."""
    body = copy.deepcopy(BASE_BODY)
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def row_counts(services: Services) -> dict[str, int]:
    """Count the rows of every table in both stores."""
    counts: dict[str, int] = {}
    for label, engine in (
        ("data", services.databases.data_engine),
        ("keys", services.databases.keys_engine),
    ):
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.connect() as connection:
            for table in tables:
                counts[f"{label}.{table}"] = connection.execute(
                    text(f'SELECT COUNT(*) FROM "{table}"')
                ).scalar_one()
    return counts


def stored_bytes(services: Services) -> bytes:
    """Dump every text and binary value of both stores, for canary searches."""
    chunks: list[bytes] = []
    for engine in (services.databases.data_engine, services.databases.keys_engine):
        inspector = inspect(engine)
        columns = [
            (table, column["name"])
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
        ]
        with engine.connect() as connection:
            for table, name in columns:
                rows = connection.execute(text(f'SELECT "{name}" FROM "{table}"'))
                for (value,) in rows:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode("utf-8"))
    return b"\n".join(chunks)


def bearer(token: str) -> dict[str, str]:
    """Build the Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


SHIPPED_POLICIES = Path(__file__).resolve().parents[1] / "policies"

# A controller block for policy files written by tests (every policy set names one).
CONTROLLER_YAML = """\
controller:
  name: Voorbeeld B.V.
  contact: privacy@voorbeeld.nl
"""


def notices_yaml(version: str = "2026-01") -> str:
    """Return a purpose's `notices:` block pointing at the shipped Dutch and English texts."""
    return (
        "    notices:\n"
        f'      "{version}":\n'
        f"        nl: notices/service-improvement-{version}.nl.md\n"
        f"        en: notices/service-improvement-{version}.en.md\n"
    )


def write_policies(folder: Path, text: str) -> Path:
    """Write a policy file beside a copy of the shipped notice texts it refers to."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SHIPPED_POLICIES / "notices", folder / "notices", dirs_exist_ok=True)
    (folder / "purposes.yaml").write_text(text, encoding="utf-8")
    return folder
