"""The OpenAPI document declares every status each operation can answer, and nothing blanket."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.test_access_matrix import served_routes

OFFICER = "/api/v1/privacy/requests/{request_id}"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    """The served OpenAPI document."""
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return dict(answer.get_json())


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Map (METHOD, path) to each operation of the document."""
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }


def test_no_operation_has_a_blanket_default(spec: dict[str, Any]) -> None:
    blanket = [key for key, op in operations(spec).items() if "default" in op["responses"]]
    assert blanket == []
    assert "DEFAULT_ERROR" not in spec["components"].get("responses", {})


def test_every_served_route_is_documented_health_included(app: Flask, spec: dict[str, Any]) -> None:
    documented = set(operations(spec))
    served = {
        (method, path.replace("<string:", "{").replace(">", "}"))
        for method, path in served_routes(app)
        if path not in ("/api/v1/openapi.json", "/docs", "/docs/<path:filename>")
        and not path.startswith("/static")
    }
    assert served <= documented, served - documented
    assert {("GET", "/healthz"), ("GET", "/readyz")} <= documented


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", f"{OFFICER}/fulfil", {"200", "400", "404", "409", "413", "415", "422"}),
        ("POST", f"{OFFICER}/verify", {"200", "404", "409", "422"}),
        ("POST", f"{OFFICER}/extend", {"200", "404", "409", "422"}),
        ("POST", f"{OFFICER}/reject", {"200", "404", "409", "422"}),
        ("GET", f"{OFFICER}/export", {"200", "404", "409", "422"}),
        ("POST", "/api/v1/consents/withdraw", {"200", "403", "404", "422", "429"}),
        ("POST", "/api/v1/responses", {"201", "400", "413", "415", "422", "429"}),
        ("GET", "/readyz", {"200", "503"}),
    ],
)
def test_the_statuses_each_operation_answers_are_declared(
    spec: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    declared = set(operations(spec)[(method, path)]["responses"])
    assert statuses <= declared, statuses - declared


def test_every_operation_declares_414_and_422(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert {"414", "422"} <= set(operation["responses"]), key


def test_the_fulfilment_documents_its_body_and_each_kind_of_answer(spec: dict[str, Any]) -> None:
    operation = operations(spec)[("POST", f"{OFFICER}/fulfil")]
    body = operation["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Fulfil"}
    fulfilled = spec["components"]["schemas"]["Fulfilled"]["properties"]
    assert fulfilled["export"]["allOf"] == [{"$ref": "#/components/schemas/Export"}]
    assert fulfilled["rectified"]["allOf"] == [{"$ref": "#/components/schemas/Rectified"}]
    export = spec["components"]["schemas"]["Export"]["properties"]
    assert set(export) == {
        "subject_refs",
        "generated_at",
        "responses",
        "consents",
        "purposes",
        "processing_history",
    }


def test_the_export_download_names_both_media_types(spec: dict[str, Any]) -> None:
    content = operations(spec)[("GET", f"{OFFICER}/export")]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Export"}
    assert content["application/zip"]["schema"]["format"] == "binary"


def test_pages_document_next_and_cursor(spec: dict[str, Any]) -> None:
    for path, listing in (
        ("/api/v1/privacy/requests", "RequestList"),
        ("/api/v1/privacy/audit", "AuditList"),
    ):
        names = {p["name"] for p in operations(spec)[("GET", path)]["parameters"]}
        assert {"cursor", "limit"} <= names
        assert spec["components"]["schemas"][listing]["properties"]["next"]["nullable"] is True
