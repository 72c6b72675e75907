"""Fuzz every operation of the served OpenAPI document with schemathesis.

Each operation is called with a token of a role its view admits, found at run time
from the app's URL map, so endpoints added later are fuzzed with the right token.
The run is bounded (examples per operation, derandomised) to fit CI. Every answer
must be a non-5xx, documented status with the documented content type and schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks

from feedbackvault.api.auth import ROLES_ATTRIBUTE
from feedbackvault.app import Services
from feedbackvault.services.tokens import ROLES
from tests.support import bearer

MAX_EXAMPLES = 30
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Cases run and server errors seen, per backend, reported at the end of the module.
TALLY: Counter[str] = Counter()


def view_roles(app: Flask, path: str, method: str) -> frozenset[str]:
    """Return the roles `require_role` admits on one operation (empty: public)."""
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path.replace("{", "").replace("}", ""), method=method)
    view = app.view_functions[endpoint]
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    return frozenset(getattr(handler, ROLES_ATTRIBUTE, frozenset()))


@pytest.fixture
def fuzz_tokens(services: Services) -> dict[str, dict[str, str]]:
    """Headers of one live token per role."""
    return {role: bearer(services.tokens.create(role, f"fuzz-{role}")) for role in ROLES}


def fuzz_operation(
    operation: Any, mode: GenerationMode, headers: dict[str, str], backend: str
) -> None:
    """Run the bounded property test of one operation in one generation mode."""

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        # No shrinking: a failure is reported as found, and the run stays bounded.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        TALLY[f"{backend}.cases"] += 1
        response = case.call(headers=headers)
        TALLY[f"{backend}.{response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@pytest.fixture(scope="module", autouse=True)
def report_tally() -> Iterator[None]:
    """Print the number of cases fuzzed and the server errors seen."""
    yield
    print(f"\nfuzz: {dict(TALLY)}")


def test_every_operation_answers_as_documented(
    app: Flask, backend: str, fuzz_tokens: dict[str, dict[str, str]]
) -> None:
    # The lazy pytest loader of schemathesis does not run under pytest 9, so this
    # test walks the operations itself and reports every failing one at once.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        roles = view_roles(app, operation.path, operation.method)
        headers = fuzz_tokens[sorted(roles)[0]] if roles else {}
        # An operation without inputs has nothing to get wrong on purpose.
        has_inputs = operation.body or operation.query or operation.path_parameters
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_inputs else [])
        for mode in modes:
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"
            try:
                fuzz_operation(operation, mode, headers, backend)
            except (Exception, BaseExceptionGroup) as exc:
                failures[label] = str(exc)[:2000]
    assert operations >= 4
    assert TALLY[f"{backend}.5xx"] == 0
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
