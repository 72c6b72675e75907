"""A follow-up note is stored only as ciphertext: no database file, column or log line holds it."""

from __future__ import annotations

import logging
import uuid

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.collect.test_collect_canaries import raw_files, variants
from tests.follow_up.support import QUEUE, follow_up_body, submit
from tests.support import bearer, stored_bytes


def test_note_canary_appears_in_no_stored_byte_file_or_log(
    client: FlaskClient,
    collector: dict[str, str],
    services: Services,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    staff = bearer(services.tokens.create("follow_up", "desk"))
    note = f"canarynote{uuid.uuid4().hex[:12]} belde terug"
    response_id = submit(client, collector, follow_up_body())["response_id"]
    done = client.post(f"{QUEUE}/{response_id}/done", json={"note": note}, headers=staff)
    assert done.status_code == 200
    # The note is readable through the service (so it was stored), yet nowhere in clear.
    [item] = client.get(f"{QUEUE}?status=done", headers=staff).get_json()["follow_ups"]
    assert item["note"] == note
    haystacks = {"columns": stored_bytes(services).lower(), "logs": caplog.text.encode().lower()}
    if backend == "sqlite":
        services.databases.dispose()
        haystacks["files"] = raw_files(services).lower()
    leaks = [
        where
        for where, haystack in haystacks.items()
        if any(v.lower() in haystack for v in variants(note))
    ]
    assert leaks == []
