"""Who may call what, on the real submission service: every route of the OpenAPI document, token lifecycle.

Each protected route answers 401 without a valid token (missing, malformed,
unknown, revoked) and 403 to a valid token without rights on it, whatever
the body holds: the body of an unauthorised request is never parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import grille_body
from tests.integration.harness import Codes, Stack, dossier, open_edition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Public routes, listed explicitly: everything else in the OpenAPI document needs a token.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/v1/editions/{edition}/grille"),
    ("GET", "/v1/editions/{edition}/palmares"),
    ("GET", "/palmares/{edition}"),
    ("GET", "/v1/actions"),
    ("GET", "/actions"),
    ("GET", "/v1/editions/{edition}/observatoire"),
    ("GET", "/v1/observatoire"),
    ("GET", "/observatoire"),
    ("GET", "/observatoire/{edition}"),
}

# Protected routes → the valid token that still has no right there (403).
PROTECTED = {
    ("POST", "/v1/collectivites"): "collectivite",  # operators only
    ("POST", "/v1/collectivites/{code}/token"): "other",  # the collectivité itself, or an operator
    ("DELETE", "/v1/collectivites/{code}/token"): "other",
    ("POST", "/v1/editions/{edition}/submissions"): "operator",  # the collectivité's own token only
    ("GET", "/v1/submissions/{submission_id}"): "other",  # the owner, or an operator
    ("PUT", "/v1/editions/{edition}/grille"): "collectivite",
    ("POST", "/v1/submissions/{submission_id}/jury-decision"): "collectivite",
    ("POST", "/v1/editions/{edition}/palmares"): "collectivite",
    ("POST", "/v1/label-history"): "collectivite",
    ("GET", "/v1/editions/{edition}/collectivites/{code}/category"): "collectivite",
    ("PUT", "/v1/editions/{edition}/collectivites/{code}/category"): "collectivite",
    ("PUT", "/v1/editions/{edition}/collectivites/{code}/reopening"): "collectivite",
    ("POST", "/v1/jury-members"): "collectivite",  # operators only
    ("GET", "/v1/jury-members"): "collectivite",
    ("DELETE", "/v1/jury-members/{member_id}"): "collectivite",
    ("POST", "/v1/sign-in-links"): "collectivite",
    ("GET", "/v1/editions/{edition}/evaluations"): "collectivite",
    ("GET", "/v1/editions/{edition}/submissions"): "collectivite",  # operators and jury members
    ("GET", "/v1/editions/{edition}/progress"): "collectivite",  # operators only
    ("GET", "/v1/editions/{edition}/tendances"): "collectivite",  # operators only
    ("PUT", "/v1/submissions/{submission_id}/actions/{position}/catalogue"): "other",  # the owner, or an operator
}


@dataclass
class World:
    """An edition with a grille, a collectivité with a dossier, another one, a revoked token."""

    client: httpx.AsyncClient
    operator: str
    edition: int
    owner_code: str
    owner: str
    other: str
    revoked: str
    submission_id: str

    def path(self, template: str) -> str:
        return template.format(
            edition=self.edition,
            code=self.owner_code,
            submission_id=self.submission_id,
            member_id="00000000-0000-4000-8000-000000000000",
            position=0,
        )

    def token(self, who: str) -> str:
        return {"operator": self.operator, "collectivite": self.owner, "other": self.other}[who]

    def body(self, method: str, template: str, codes: Codes) -> Any:
        """A valid body for the route: only the caller's rights can make it fail."""
        return {
            "/v1/collectivites": {"code": codes.take("ville"), "contact_email": "nouvelle@ville.example"},
            "/v1/editions/{edition}/submissions": dossier("owner@ville.example"),
            "/v1/editions/{edition}/grille": grille_body(self.edition),
            "/v1/submissions/{submission_id}/jury-decision": {"arobases": 3, "decided_by": "Jury"},
            "/v1/editions/{edition}/palmares": {"ceremony": {"place": "Lille", "date": f"{self.edition}-02-01"}},
            "/v1/label-history": {"entries": [{"code": self.owner_code, "edition": 2005, "arobases": 5}]},
            "/v1/editions/{edition}/collectivites/{code}/category": {
                "category": "ville",
                "reason": "Vérification du droit d’accès.",
                "decided_by": "Équipe du label",
            }
            if method == "PUT"
            else None,
            "/v1/jury-members": {"email": "jury@villes-internet.example", "name": "Jury"} if method == "POST" else None,
            "/v1/sign-in-links": {"email": "owner@ville.example"},
            "/v1/editions/{edition}/collectivites/{code}/reopening": {"until": None},
            "/v1/submissions/{submission_id}/actions/{position}/catalogue": {"published": False},
        }.get(template)


@pytest.fixture(scope="module")
async def world(stack: Stack, codes: Codes) -> AsyncIterator[World]:
    async with open_edition(stack) as (api, edition):
        client = api.client
        owner_code = codes.take("ville")
        owner = await api.register(owner_code, "owner@ville.example")
        other = await api.register(codes.take("ville"), "other@ville.example")
        revoked_code = codes.take("ville")
        revoked = await api.register(revoked_code, "revoked@ville.example")
        r = await client.delete(f"/v1/collectivites/{revoked_code}/token", headers=api.operator)
        assert r.status_code == 204, r.text
        r = await api.submit(owner, edition, dossier("owner@ville.example"))
        assert r.status_code == 202, r.text
        yield World(client, stack.operator_token, edition, owner_code, owner, other, revoked, r.json()["submission_id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_route_tables_cover_the_openapi_document(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    routes = {(m.upper(), path): op for path, ops in document["paths"].items() for m, op in ops.items()}
    assert set(routes) == PUBLIC | set(PROTECTED), "a new route must be listed as public or protected here"
    assert document["components"]["securitySchemes"]["jeton"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["jeton"]["description"],
    }
    for route, op in routes.items():
        if route in PUBLIC:
            assert "security" not in op, route
        else:
            assert op["security"] == [{"jeton": []}], route
            assert {"401", "403", "429"} <= set(op["responses"]), route
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
            assert op["responses"]["429"]["headers"]["Retry-After"]["required"] is True


@pytest.mark.parametrize(("method", "template"), sorted(PROTECTED), ids=[f"{m} {p}" for m, p in sorted(PROTECTED)])
async def test_401_without_a_valid_token_and_403_without_the_right(
    world: World, codes: Codes, method: str, template: str
) -> None:
    path = world.path(template)
    body = world.body(method, template, codes)
    garbage = b'{"pas du json'

    async def call(headers: dict[str, str], raw: bytes | None = None) -> httpx.Response:
        if raw is not None:
            headers = {**headers, "Content-Type": "application/json"}
            return await world.client.request(method, path, content=raw, headers=headers)
        return await world.client.request(method, path, json=body, headers=headers)

    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer \t x"},
        {"Authorization": f"Basic {world.owner}"},
        {"Authorization": world.owner},  # no scheme
        bearer("pal_" + "x" * 43),  # well-formed, unknown
        bearer(world.revoked),
        bearer(world.operator + "x"),
        bearer("x" * 5000),
    ):
        for raw in (None, garbage):
            r = await call(headers, raw)
            assert r.status_code == 401, (headers, raw, r.status_code, r.text)
            assert r.headers["WWW-Authenticate"] == "Bearer"
            answer = r.json()
            assert answer["error"] in (
                "Authentification requise\u00a0: jeton d’accès manquant.",
                "Jeton invalide ou révoqué.",
            )
            assert answer["detail"] == []

    wrong = bearer(world.token(PROTECTED[(method, template)]))
    for raw in (None, garbage):
        r = await call(wrong, raw)
        if raw is not None and PROTECTED[(method, template)] == "other" and "{submission_id}" in template:
            continue  # ownership of a dossier needs the dossier: read, not the body
        assert r.status_code == 403, (raw, r.status_code, r.text)
        assert r.json()["error"] and "WWW-Authenticate" not in r.headers


async def test_public_routes_need_no_token(world: World) -> None:
    for path in ("/health", "/ready", f"/v1/editions/{world.edition}/grille"):
        assert (await world.client.get(path)).status_code == 200, path
    assert (await world.client.get(f"/v1/editions/{world.edition}/palmares")).status_code == 404
    assert (await world.client.get(f"/palmares/{world.edition}")).status_code == 404


async def test_token_rotation_and_revocation(world: World, codes: Codes) -> None:
    client, operator = world.client, bearer(world.operator)
    code = codes.take("village")
    r = await client.post(
        "/v1/collectivites", json={"code": code, "contact_email": "a@village.example"}, headers=operator
    )
    assert r.status_code == 201
    first = r.json()["token"]
    assert first.startswith("pal_") and len(first) >= 47
    sid = (
        await client.post(
            f"/v1/editions/{world.edition}/submissions", json=dossier("a@village.example"), headers=bearer(first)
        )
    ).json()["submission_id"]

    async def reads(token: str) -> int:
        return (await client.get(f"/v1/submissions/{sid}", headers=bearer(token))).status_code

    assert await reads(first) == 200
    # The token is shown once: registering again does not show it.
    again = await client.post(
        "/v1/collectivites", json={"code": code, "contact_email": "a@village.example"}, headers=operator
    )
    assert again.status_code == 409 and "token" not in again.text

    # An operator rotates: the old token stops at once.
    second = (await client.post(f"/v1/collectivites/{code}/token", headers=operator)).json()["token"]
    assert (await reads(first), await reads(second)) == (401, 200)
    # The collectivité rotates its own token.
    r = await client.post(f"/v1/collectivites/{code}/token", headers=bearer(second))
    assert r.status_code == 200
    third = r.json()["token"]
    assert (await reads(second), await reads(third)) == (401, 200)
    # Another collectivité can neither rotate nor revoke it.
    assert (await client.post(f"/v1/collectivites/{code}/token", headers=bearer(world.other))).status_code == 403
    assert (await client.delete(f"/v1/collectivites/{code}/token", headers=bearer(world.other))).status_code == 403
    assert await reads(third) == 200
    # The collectivité revokes its own (leaked) token: 401 from now on, everywhere.
    assert (await client.delete(f"/v1/collectivites/{code}/token", headers=bearer(third))).status_code == 204
    assert await reads(third) == 401
    r = await client.post(
        f"/v1/editions/{world.edition}/submissions", json=dossier("a@village.example"), headers=bearer(third)
    )
    assert r.status_code == 401 and r.json()["error"] == "Jeton invalide ou révoqué."
    assert (await client.delete(f"/v1/collectivites/{code}/token", headers=operator)).status_code == 204  # idempotent
    # Only an operator can issue a new one now.
    fourth = (await client.post(f"/v1/collectivites/{code}/token", headers=operator)).json()["token"]
    assert await reads(fourth) == 200 and len({first, second, third, fourth}) == 4
    # Unknown and malformed codes.
    assert (await client.delete("/v1/collectivites/99999/token", headers=operator)).status_code == 404
    r = await client.delete("/v1/collectivites/49007%00/token", headers=operator)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "code"
