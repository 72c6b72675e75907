"""Follow-up staff see, and close, only what a follow-up purpose allows, while it may be seen."""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import AUDIT_ENTRY, FOLLOW_UP
from tests.follow_up.support import QUEUE, follow_up_body, fulfilled, listed, submit
from tests.support import FrozenClock, bearer, submission


def encode_cursor(parts: list[object]) -> str:
    raw = json.dumps(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def staff(services: Services) -> dict[str, str]:
    """Headers of a follow-up token."""
    return bearer(services.tokens.create("follow_up", "callback-desk"))


def follow_up_rows(services: Services) -> list[dict[str, object]]:
    with services.stores.read() as unit:
        return [dict(r._mapping) for r in unit.session.execute(select(FOLLOW_UP))]


def audit_entries(services: Services, action: str) -> list[dict[str, object]]:
    with services.stores.read() as unit:
        rows = unit.session.execute(
            select(AUDIT_ENTRY).where(AUDIT_ENTRY.c.action == action).order_by(AUDIT_ENTRY.c.seq)
        )
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("role", ["collector", "analyst", "privacy_officer"])
def test_other_roles_get_403_on_every_follow_up_endpoint(
    client: FlaskClient, services: Services, collector: dict[str, str], role: str
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    headers = bearer(services.tokens.create(role, f"other-{role}"))
    answers = [
        client.get(QUEUE, headers=headers),
        client.get(f"{QUEUE}/{response_id}", headers=headers),
        client.post(f"{QUEUE}/{response_id}/done", json={"note": "x"}, headers=headers),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert all(b"example.nl" not in a.get_data() for a in answers)
    assert audit_entries(services, "follow_up.shown") == []
    assert follow_up_rows(services) == []


def test_no_token_gets_401(client: FlaskClient) -> None:
    assert client.get(QUEUE).status_code == 401


def test_follow_up_role_sees_decrypted_fields_and_comment(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str]
) -> None:
    recorded = submit(client, collector, follow_up_body(touchpoint="helpdesk"))
    answer = client.get(QUEUE, headers=staff).get_json()
    [item] = answer["follow_ups"]
    assert item["response_id"] == recorded["response_id"]
    assert item["respondent"] == {
        "email": "an@example.nl",
        "name": "An de Vries",
        "customer_id": "C-an@example.nl",
    }
    assert item["answers"] == {"csat": 2, "ces": 3, "comment": "Niemand belde terug."}
    assert (item["status"], item["touchpoint"], item["note"]) == ("open", "helpdesk", None)
    assert answer["next"] is None


def test_purposes_without_follow_up_never_appear(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str]
) -> None:
    kept = submit(client, collector, follow_up_body())["response_id"]
    other = submit(client, collector, submission())["response_id"]
    assert listed(client, staff) == [kept]
    assert listed(client, staff, "?status=done") == []
    assert client.get(f"{QUEUE}/{other}", headers=staff).status_code == 404
    done = client.post(f"{QUEUE}/{other}/done", json={"note": "gebeld"}, headers=staff)
    assert done.status_code == 404


def test_a_response_without_contact_field_is_not_listed(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str]
) -> None:
    body = follow_up_body()
    body["respondent"] = {"name": "An"}
    submit(client, collector, body)
    assert listed(client, staff) == []


def test_expired_responses_leave_the_queue_and_the_sweep_deletes_their_notes(
    client: FlaskClient,
    collector: dict[str, str],
    staff: dict[str, str],
    services: Services,
    clock: FrozenClock,
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    late = submit(client, collector, follow_up_body(email="later@example.nl"))["response_id"]
    assert client.post(f"{QUEUE}/{response_id}/done", json={"note": "gebeld"}, headers=staff)
    clock.advance(days=30, seconds=-1)
    assert listed(client, staff, "?status=done") == [response_id]
    clock.advance(seconds=1)
    assert listed(client, staff, "?status=done") == []
    assert listed(client, staff) == []
    assert client.get(f"{QUEUE}/{late}", headers=staff).status_code == 404
    assert len(follow_up_rows(services)) == 1
    report = services.retention.sweep()
    assert (report.follow_ups_deleted, follow_up_rows(services)) == (1, [])


def test_withdrawal_removes_open_and_done_items_with_their_notes(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str], services: Services
) -> None:
    first = submit(client, collector, follow_up_body())
    second = submit(client, collector, follow_up_body())
    done = client.post(f"{QUEUE}/{first['response_id']}/done", json={"note": "n"}, headers=staff)
    assert done.status_code == 200
    for recorded in (first, second):
        receipt = recorded["receipt"]
        withdrawal = client.post(
            "/api/v1/consents/withdraw",
            json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
            headers=collector,
        )
        assert withdrawal.status_code == 200
    assert listed(client, staff) == [] and listed(client, staff, "?status=done") == []
    assert follow_up_rows(services) == []


def test_erasure_removes_items_and_notes_of_the_subject_only(
    client: FlaskClient,
    collector: dict[str, str],
    staff: dict[str, str],
    officer: dict[str, str],
    services: Services,
) -> None:
    erased = submit(client, collector, follow_up_body())["response_id"]
    kept = submit(client, collector, follow_up_body(email="bo@example.nl"))["response_id"]
    for response_id in (erased, kept):
        note = {"note": "teruggebeld"}
        assert (
            client.post(f"{QUEUE}/{response_id}/done", json=note, headers=staff).status_code == 200
        )
    fulfilled(client, officer, "erasure", {"email": "an@example.nl"})
    assert listed(client, staff, "?status=done") == [kept]
    assert [row["response_id"] for row in follow_up_rows(services)] == [kept]


def test_marking_done_twice_is_a_conflict_and_the_note_is_shown_to_staff(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str]
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    first = client.post(
        f"{QUEUE}/{response_id}/done", json={"note": "Gebeld, opgelost."}, headers=staff
    )
    assert first.status_code == 200
    assert (first.get_json()["status"], first.get_json()["done_by"]) == (
        "done",
        "token:callback-desk",
    )
    again = client.post(f"{QUEUE}/{response_id}/done", json={"note": "nog eens"}, headers=staff)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert listed(client, staff) == []
    [item] = client.get(f"{QUEUE}?status=done", headers=staff).get_json()["follow_ups"]
    assert item["note"] == "Gebeld, opgelost."


@pytest.mark.parametrize(
    "body",
    [{}, {"note": ""}, {"note": "x" * 2001}, {"note": 5}, {"note": "ok", "extra": 1}],
)
def test_bad_notes_are_422_and_store_nothing(
    client: FlaskClient,
    collector: dict[str, str],
    staff: dict[str, str],
    services: Services,
    body: dict[str, object],
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    answer = client.post(f"{QUEUE}/{response_id}/done", json=body, headers=staff)
    assert answer.status_code == 422
    assert follow_up_rows(services) == []


@pytest.mark.parametrize(
    "query",
    [
        "?status=closed",
        "?metric=nps&max_score=11",
        "?metric=csat&max_score=0",
        "?max_score=3",
        "?metric=foo",
        "?limit=0",
        "?limit=201",
        "?cursor=bm9wZQ",
        "?cursor=%%%",
        # A well-formed cursor whose id holds a NUL (PostgreSQL text cannot) or is no id.
        "?cursor=" + encode_cursor(["newest", None, "2026-11-24T10:00:00Z", "a\u0000b"]),
        "?cursor=" + encode_cursor(["newest", None, "2026-11-24T10:00:00Z", "x" * 36]),
        "?cursor=" + encode_cursor(["newest", None, "0001-01-01T00:00:00Z", "0" * 36]),
        "?cursor=" + encode_cursor(["newest", None, "2026-11-24T10:00:00", "0" * 36]),
        "?order=oldest",
    ],
)
def test_bad_listing_parameters_are_422(
    client: FlaskClient, staff: dict[str, str], services: Services, query: str
) -> None:
    answer = client.get(f"{QUEUE}{query}", headers=staff)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert audit_entries(services, "follow_up.listed") == []


def test_filters_by_survey_metric_and_max_score(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str]
) -> None:
    low = submit(client, collector, follow_up_body(csat=1))["response_id"]
    high = submit(client, collector, follow_up_body(csat=5))["response_id"]
    other = submit(client, collector, follow_up_body(csat=1, survey_id="other-survey"))
    assert listed(client, staff, "?metric=csat&max_score=2&survey_id=checkout-2026-q4") == [low]
    assert listed(client, staff, "?survey_id=other-survey") == [other["response_id"]]
    assert set(listed(client, staff, "?metric=csat")) == {low, high, other["response_id"]}


def test_pages_walk_the_whole_queue_newest_first_and_detractors_first(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str], clock: FrozenClock
) -> None:
    ids = []
    for n in range(7):
        clock.advance(seconds=1)
        ids.append(submit(client, collector, follow_up_body(csat=1 + n % 5))["response_id"])
    for order, expected in (
        ("newest", ids[::-1]),
        # Unhappy (CSAT 1-3) first, each group newest first.
        ("detractors", [ids[i] for i in (6, 5, 2, 1, 0, 4, 3)]),
    ):
        seen: list[str] = []
        cursor = ""
        while True:
            page = client.get(
                f"{QUEUE}?limit=2&metric=csat&order={order}{cursor}", headers=staff
            ).get_json()
            seen += [item["response_id"] for item in page["follow_ups"]]
            if page["next"] is None:
                break
            cursor = f"&cursor={page['next']}"
        assert seen == expected
    newest = client.get(f"{QUEUE}?limit=2", headers=staff).get_json()["next"]
    assert client.get(f"{QUEUE}?order=detractors&cursor={newest}", headers=staff).status_code == 422


def test_every_listing_and_item_shown_is_audited_without_personal_values(
    client: FlaskClient, collector: dict[str, str], staff: dict[str, str], services: Services
) -> None:
    ids = [submit(client, collector, follow_up_body())["response_id"] for _ in range(2)]
    listed_ids = listed(client, staff)
    assert set(listed_ids) == set(ids)
    assert client.get(f"{QUEUE}/{ids[0]}", headers=staff).status_code == 200
    [listing] = audit_entries(services, "follow_up.listed")
    assert listing["actor"] == "token:callback-desk"
    assert set(json.loads(str(listing["details"]))["response_ids"]) == set(ids)
    shown = audit_entries(services, "follow_up.shown")
    # One subject: one entry for the listing (both responses), one for the item.
    assert [json.loads(str(e["details"]))["response_ids"] for e in shown] == [
        listed_ids,
        [ids[0]],
    ]
    assert all(e["subject_ref"] and e["actor"] == "token:callback-desk" for e in shown)
    every = json.dumps([str(e) for e in [listing, *shown]])
    assert "example.nl" not in every and "Niemand" not in every and "An de Vries" not in every


def test_access_export_lists_the_note_and_who_looked_when(
    client: FlaskClient,
    collector: dict[str, str],
    staff: dict[str, str],
    officer: dict[str, str],
    services: Services,
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    other = bearer(services.tokens.create("follow_up", "second-desk"))
    listed(client, staff)
    client.get(f"{QUEUE}/{response_id}", headers=other)
    done = client.post(f"{QUEUE}/{response_id}/done", json={"note": "Teruggebeld"}, headers=other)
    assert done.status_code == 200
    export = fulfilled(client, officer, "access", {"email": "an@example.nl"})["export"]
    [handled] = export["follow_ups"]
    assert (handled["response_id"], handled["note"]) == (response_id, "Teruggebeld")
    assert handled["done_by"] == "token:second-desk"
    looks = [(r["recipient"], r["action"], r["response_ids"]) for r in export["recipients"]]
    assert looks == [
        ("token:callback-desk", "follow_up.shown", [response_id]),
        ("token:second-desk", "follow_up.shown", [response_id]),
        ("token:second-desk", "follow_up.done", [response_id]),
    ]
    assert all(r["at"] == "2026-11-24T10:00:00Z" for r in export["recipients"])


def test_rectification_keeps_the_note_readable_under_the_new_key(
    client: FlaskClient,
    collector: dict[str, str],
    staff: dict[str, str],
    officer: dict[str, str],
) -> None:
    response_id = submit(client, collector, follow_up_body())["response_id"]
    client.post(f"{QUEUE}/{response_id}/done", json={"note": "Adres klopte niet"}, headers=staff)
    fulfilled(
        client,
        officer,
        "rectification",
        {"email": "an@example.nl"},
        respondent={"email": "an.new@example.nl"},
    )
    [item] = client.get(f"{QUEUE}?status=done", headers=staff).get_json()["follow_ups"]
    assert (item["note"], item["respondent"]["email"]) == ("Adres klopte niet", "an.new@example.nl")


def test_openapi_declares_every_status_of_the_follow_up_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    declared = {
        (method, path): sorted(operation["responses"])
        for path, operations in paths.items()
        if path.startswith("/api/v1/follow-ups")
        for method, operation in operations.items()
        if method in ("get", "post")
    }
    assert declared == {
        ("get", "/api/v1/follow-ups"): ["200", "401", "403", "414", "422", "503"],
        ("get", "/api/v1/follow-ups/{response_id}"): [
            "200", "401", "403", "404", "414", "422", "503",
        ],
        ("post", "/api/v1/follow-ups/{response_id}/done"): [
            "200", "400", "401", "403", "404", "409", "413", "414", "415", "422", "503",
        ],
    }  # fmt: skip


def test_an_unknown_query_parameter_is_refused_like_an_unknown_body_field(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    response = client.get(f"{QUEUE}?max_scor=6", headers=staff)
    assert response.status_code == 422
    assert "max_scor" in response.get_json()["errors"]
