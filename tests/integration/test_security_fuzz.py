"""schemathesis against the OpenAPI document of the real, running submission service.

Every operation gets generated requests, valid and invalid (positive and
negative modes, schemathesis' examples, coverage and fuzzing phases), sent
with the token its security asks for. Checks: no 5xx, every status code
declared, every body and header conforming to the schema, invalid data
refused. At least 1,000 requests in all.

The fuzzer shares the session's stack with other tests: what it could
change outside its own data is steered to its own (editions, collectivités);
see `Fuzz.steer`.
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from palmares_submission import refdata
from palmares_submission.app import openapi_document
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from tests.factories import grille_body
from tests.integration.harness import Codes, Stack, dossier, next_edition

pytestmark = [pytest.mark.integration]

MIN_REQUESTS = 1000
TOKENS = 8  # collectivité tokens used in turn: each stays under the default rate limit


@dataclass
class Fuzz:
    """The fuzzer's own data in the shared stack, and what it sent."""

    base_url: str
    operator: str
    tokens: list[str]
    editions: tuple[int, int]  # one with a grille (open campaign), one without
    victim: str  # the only registered collectivité whose token the fuzzer may rotate or revoke
    submission_id: str
    codes: Codes
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    started: float = field(default_factory=time.monotonic)
    _turn: Iterator[int] = field(default_factory=itertools.count)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def steer(self, case: Any) -> None:
        """Keep generated requests on the fuzzer's own editions and collectivités (same validity)."""
        path = case.path_parameters or {}
        edition = path.get("edition")
        if isinstance(edition, int) and not isinstance(edition, bool) and 2000 <= edition <= 2100:
            path["edition"] = self.editions[edition % 2]
            if isinstance(case.body, dict) and case.body.get("edition") == edition:
                case.body["edition"] = path["edition"]
        code = path.get("code")
        if isinstance(code, str) and refdata.lookup(code) is not None:
            path["code"] = self.victim
        if isinstance(case.body, dict):
            body_code = case.body.get("code")
            if isinstance(body_code, str) and refdata.lookup(body_code) is not None:
                case.body["code"] = self.codes.take("ville")  # a collectivité nobody else uses
            entries = case.body.get("entries")
            if isinstance(entries, list):
                for entry in entries:
                    if isinstance(entry, dict) and isinstance(entry.get("code"), str) and refdata.lookup(entry["code"]):
                        entry["code"] = self.victim
        submission_id = path.get("submission_id")
        positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
        if positive and isinstance(submission_id, str) and _even(submission_id):
            path["submission_id"] = self.submission_id  # reach the dossier, not only 404s

    def headers(self, case: Any) -> dict[str, str]:
        """The token the operation's security asks for: an operator's, or a collectivité's."""
        if not case.operation.definition.raw.get("security"):
            return {}
        header = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
        if header is not None and header.mode == GenerationMode.NEGATIVE:
            return {}  # the case is invalid by its headers (no Authorization): a token would make it valid
        tags = set(case.operation.definition.raw.get("tags", []))
        turn = next(self._turn)
        if "collectivite" in tags and ("operator" not in tags or turn % 2):
            return {"Authorization": f"Bearer {self.tokens[turn % len(self.tokens)]}"}
        return {"Authorization": f"Bearer {self.operator}"}


def _even(value: str) -> bool:
    try:
        return UUID(value).int % 2 == 0
    except ValueError:
        return False


@pytest.fixture(scope="module")
def fuzz(stack: Stack, codes: Codes) -> Fuzz:
    operator = {"Authorization": f"Bearer {stack.operator_token}"}
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:

        def register(code: str) -> str:
            r = client.post(
                "/v1/collectivites", json={"code": code, "contact_email": f"fuzz-{code}@fuzz.example"}, headers=operator
            )
            assert r.status_code == 201, r.text
            return str(r.json()["token"])

        editions = (next_edition(), next_edition())
        body = grille_body(editions[0])
        assert client.put(f"/v1/editions/{editions[0]}/grille", json=body, headers=operator).status_code == 200
        tokens = [register(codes.take("ville")) for _ in range(TOKENS)]
        victim = codes.take("village")
        register(victim)
        r = client.post(
            f"/v1/editions/{editions[0]}/submissions",
            json=dossier("fuzz@fuzz.example"),
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        assert r.status_code == 202, r.text
    return Fuzz(stack.api_url, stack.operator_token, tokens, editions, victim, r.json()["submission_id"], codes)


# The document is built from the code at collection time (schemathesis' lazy fixture loader does not
# run under pytest 9); the first test proves the running service serves exactly this document.
schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "checks": {
                # Schema-valid data may still break a rule the schema cannot say: a code unknown to the
                # reference data, a service absent from the grille, a date after the deadline: 422.
                "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}
            }
        }
    ),
)


def test_the_running_service_serves_the_fuzzed_document(stack: Stack) -> None:
    assert httpx.get(f"{stack.api_url}/openapi.json", timeout=30).json() == openapi_document()


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_openapi_document(case: Any, fuzz: Fuzz) -> None:
    fuzz.steer(case)
    response = case.call_and_validate(base_url=fuzz.base_url, headers=fuzz.headers(case), timeout=30)
    fuzz.statuses[response.status_code] += 1


def test_fuzzing_sent_enough_requests_and_no_5xx(fuzz: Fuzz) -> None:
    if fuzz.requests == 0:
        pytest.skip("the schemathesis test did not run")
    elapsed = time.monotonic() - fuzz.started
    print(
        f"\nschemathesis: {fuzz.requests} requests in {elapsed:.1f} s; statuses {dict(sorted(fuzz.statuses.items()))}"
    )
    assert fuzz.requests >= MIN_REQUESTS
    assert not [s for s in fuzz.statuses if s >= 500]
