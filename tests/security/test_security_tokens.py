"""Bearer tokens are stored as SHA-256 hashes, looked up by hash, compared in constant time."""

from __future__ import annotations

import hashlib
import inspect

from flask.testing import FlaskClient
from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.services.tokens import TokenService
from tests.support import bearer, stored_bytes


def test_the_store_holds_only_the_tokens_sha256(services: Services) -> None:
    secret = services.tokens.create("collector", "front-end")
    with services.databases.data_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT token_hash FROM api_token WHERE name = 'front-end'")
        ).scalar_one()
    assert bytes(stored) == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in stored_bytes(services)


def test_near_miss_tokens_are_refused(services: Services, client: FlaskClient) -> None:
    secret = services.tokens.create("analyst", "reader")
    last = "A" if secret[-1] != "A" else "B"
    near_misses = [secret[:-1] + last, secret[:-1], secret + "x", secret.upper()]
    assert client.get("/api/v1/purposes", headers=bearer(secret)).status_code == 200
    for candidate in near_misses:
        assert client.get("/api/v1/purposes", headers=bearer(candidate)).status_code == 401


def test_the_stored_hash_is_not_a_token(services: Services, client: FlaskClient) -> None:
    services.tokens.create("analyst", "reader")
    with services.databases.data_engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM api_token")).scalar_one()
    assert client.get("/api/v1/purposes", headers=bearer(bytes(stored).hex())).status_code == 401


def test_authentication_compares_in_constant_time() -> None:
    # The lookup is an indexed equality on the hash; the final comparison must not
    # short-circuit on the first differing byte.
    source = inspect.getsource(TokenService.authenticate)
    assert "hash_secret(secret)" in source
    assert "hmac.compare_digest(" in source
