"""No personal field reaches either database, a log line or a response other than the receipt."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.support import stored_bytes, submission


def canaries() -> dict[str, str]:
    """Return unique, greppable personal values."""
    tag = uuid.uuid4().hex[:12]
    return {
        "email": f"canary.{tag}@example.nl",
        "name": f"Canaryname{tag}",
        "customer_id": f"CANARYCUST{tag}",
        "comment": f"canarycomment{tag} was slow",
    }


def variants(value: str) -> list[bytes]:
    """Return the encodings a leak could take: as is, upper and lower case."""
    return [v.encode("utf-8") for v in {value, value.lower(), value.upper()}]


def raw_files(services: Services) -> bytes:
    """Read every byte of the SQLite files (databases, WAL and shared memory)."""
    folder = Path(services.settings.instance_dir)
    return b"".join(p.read_bytes() for p in sorted(folder.glob("*.db*")))


def test_canaries_appear_in_no_stored_byte_and_no_log(
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    values = [canaries() for _ in range(3)]
    for value in values:
        body = submission(
            respondent={k: value[k] for k in ("email", "name", "customer_id")},
            answers={"nps": 3, "comment": value["comment"]},
        )
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    # A rejected submission must not leak either.
    rejected = submission(respondent={"email": values[0]["email"], "phone": "1"})
    assert client.post("/api/v1/responses", json=rejected, headers=collector).status_code == 422

    haystacks = {"columns": stored_bytes(services).lower(), "logs": caplog.text.encode().lower()}
    if backend == "sqlite":
        services.databases.dispose()
        haystacks["files"] = raw_files(services).lower()
    leaks = [
        (where, field)
        for value in values
        for field, text in value.items()
        for where, haystack in haystacks.items()
        if any(v.lower() in haystack for v in variants(text))
    ]
    assert leaks == []


def test_rejection_problem_does_not_echo_personal_values(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    value = canaries()
    body = submission(
        purpose="product-research",
        respondent={"email": value["email"], "name": value["name"]},
        answers={"nps": 11, "comment": value["comment"]},
    )
    response = client.post("/api/v1/responses", json=body, headers=collector)
    assert response.status_code == 422
    text = response.get_data().lower()
    assert not any(v.lower() in text for field in value.values() for v in variants(field))
