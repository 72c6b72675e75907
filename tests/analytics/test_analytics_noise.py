"""Policy-driven disclosure: k from policies/, and geometric noise when epsilon is set."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from feedbackvault.app import Services, create_app
from feedbackvault.settings import Settings
from tests.support import FrozenClock, bearer, submission, write_policies

SURVEY = "checkout-2026-q4"
MIXED = (9, 7, 3, 10, 6, 8, 9, 2, 10, 5, 9, 7)
SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "purposes.yaml"
EPSILON = 0.5
# Enough repeated releases that identical noisy answers would mean no noise at all.
REPEATS = 20


def policies_with(tmp_path: Path, aggregation: str) -> Path:
    """Write the shipped purposes under another aggregation block into a policies dir."""
    shipped = SHIPPED.read_text(encoding="utf-8")
    rewritten = re.sub(r"(?ms)^aggregation:.*?(?=^purposes:)", aggregation + "\n", shipped)
    return write_policies(tmp_path / "policies", rewritten)


@dataclasses.dataclass
class Instance:
    """An app over the fresh instance, built with its own policies."""

    services: Services
    client: FlaskClient
    collector: dict[str, str]
    analyst: dict[str, str]

    def seed(self, count: int, touchpoint: str = "checkout") -> None:
        """Submit `count` anonymous responses with varied NPS answers."""
        for i in range(count):
            body = submission(
                respondent=None,
                answers={"nps": MIXED[i % len(MIXED)]},
                touchpoint=touchpoint,
                locale=None,
            )
            response = self.client.post("/api/v1/responses", json=body, headers=self.collector)
            assert response.status_code == 201, response.get_json()

    def get(self, path: str, **params: str) -> Any:
        """Return the 200 JSON body of an analytics query on the test survey's NPS."""
        response = self.client.get(
            f"/api/v1/{path}",
            query_string={"survey_id": SURVEY, "metric": "nps", **params},
            headers=self.analyst,
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def build(settings: Settings, clock: FrozenClock, policies_dir: Path) -> Iterator[Instance]:
    """Compose services over the given policies and yield a ready instance."""
    services = Services.build(dataclasses.replace(settings, policies_dir=policies_dir), clock=clock)
    client = create_app(services=services).test_client()
    yield Instance(
        services,
        client,
        bearer(services.tokens.create("collector", "survey-frontend")),
        bearer(services.tokens.create("analyst", "analytics")),
    )
    services.databases.dispose()


@pytest.fixture
def noisy(settings: Settings, clock: FrozenClock, tmp_path: Path) -> Iterator[Instance]:
    """An instance whose policy adds geometric noise at epsilon 0.5."""
    folder = policies_with(
        tmp_path, f"aggregation:\n  k: 10\n  differential_privacy:\n    epsilon: {EPSILON}\n"
    )
    yield from build(settings, clock, folder)


@pytest.fixture
def small_k(settings: Settings, clock: FrozenClock, tmp_path: Path) -> Iterator[Instance]:
    """An instance whose policy sets k to 5."""
    yield from build(settings, clock, policies_with(tmp_path, "aggregation:\n  k: 5\n"))


def test_policy_k_decides_the_smallest_released_group(small_k: Instance) -> None:
    small_k.seed(5, "checkout")
    small_k.seed(4, "delivery")
    small_k.seed(7, "support")
    body = small_k.get("aggregates", group_by="touchpoint")
    assert (body["k"], [g["key"] for g in body["groups"]], body["suppressed_groups"]) == (
        5,
        ["support"],
        2,
    )


def test_noised_release_says_so(noisy: Instance) -> None:
    noisy.seed(12)
    assert noisy.get("scores")["noise"] == {"mechanism": "geometric", "epsilon": EPSILON}


def test_noised_counts_differ_between_releases(noisy: Instance) -> None:
    noisy.seed(12)
    releases = [
        json.dumps(noisy.get("aggregates")["groups"][0]["histogram"]) for _ in range(REPEATS)
    ]
    assert len(set(releases)) > 1


def test_noised_counts_stay_centred_on_the_truth(noisy: Instance) -> None:
    noisy.seed(60)  # five rounds of MIXED: fifteen 9s, far from the clamp at 0
    nines = [int(noisy.get("aggregates")["groups"][0]["histogram"]["9"]) for _ in range(REPEATS)]
    # Geometric noise at 0.5 has sd 2.8; the mean of 20 draws has sd 0.63, so 3 is ~5 sigma.
    assert abs(sum(nines) / len(nines) - 15) < 3


def test_suppression_uses_the_true_counts_whatever_the_noise(noisy: Instance) -> None:
    # The released groups are large enough that noise at epsilon/2 cannot plausibly empty
    # them (each holds 60 answers; every count would have to fall to 0 at once), so any
    # release other than support alone would mean suppression looked at noisy counts.
    noisy.seed(9, "checkout")
    noisy.seed(60, "support")
    noisy.seed(60, "delivery")
    bodies = [noisy.get("scores", group_by="touchpoint") for _ in range(REPEATS)]
    assert {tuple(g["key"] for g in body["groups"]) for body in bodies} == {
        ("support",),  # delivery and support tie at 60; delivery goes by key order
    }


def test_noised_release_is_audited_with_its_epsilon(noisy: Instance) -> None:
    noisy.get("aggregates")
    with noisy.services.databases.data_engine.connect() as connection:
        details = connection.execute(
            text("SELECT details FROM audit_entry WHERE action = 'aggregates.released'")
        ).scalar_one()
    assert json.loads(details)["epsilon"] == EPSILON
