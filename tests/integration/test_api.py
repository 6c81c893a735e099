"""The HTTP API's answers to bad input and to the wrong caller: clear, in French, naming the field."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def fields(response_json: dict[str, object]) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response_json["detail"]}  # type: ignore[index, union-attr]


async def test_malformed_dossier_gets_422_naming_each_field(api: Api, codes: Codes, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    token = await api.register(codes.take("ville"), "contact@ville.example")
    body = dossier("pas-une-adresse")
    body["actions"][0]["title"] = ""  # type: ignore[index]
    body["actions"][0]["started_on"] = "le 3 mars"  # type: ignore[index]
    body["actions"][1]["url"] = "ftp://exemple.fr/fichier"  # type: ignore[index]
    body["actions"][1]["ended_on"] = "2014-01-01"  # type: ignore[index]
    body["inconnu"] = True
    r = await api.submit(token, edition, body)
    assert r.status_code == 422
    errors = fields(r.json())
    assert errors["contact_email"] == "adresse électronique invalide"
    assert errors["actions.0.title"].startswith("texte trop court")
    assert errors["actions.0.started_on"] == "une date AAAA-MM-JJ est attendue"
    assert errors["actions.1.url"] == "seules les adresses http et https sont acceptées"
    assert errors["inconnu"] == "champ inconnu"
    assert r.json()["error"].startswith("Requête invalide")

    r = await api.submit(token, edition, dossier("contact@ville.example", services=["service_inexistant"]))
    assert r.status_code == 422
    assert fields(r.json()) == {
        "actions.0.services.0": f"Service «\u00a0service_inexistant\u00a0» inconnu de la grille {edition} (version 1)."
    }

    r = await api.client.post(
        f"/v1/editions/{edition}/submissions",
        content=b"{pas du json",
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert r.status_code == 422 and "JSON invalide" in r.text


async def test_unknown_collectivite_code_is_refused(api: Api) -> None:
    r = await api.client.post(
        "/v1/collectivites", json={"code": "99999", "contact_email": "a@b.example"}, headers=api.operator
    )
    assert r.status_code == 422
    assert fields(r.json()) == {"code": "Code 99999 inconnu du référentiel des collectivités."}


async def test_authentication_and_ownership(api: Api, codes: Codes, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    owner = await api.register(codes.take("ville"), "owner@ville.example")
    other = await api.register(codes.take("ville"), "other@ville.example")
    r = await api.submit(owner, edition, dossier("owner@ville.example"))
    sid = r.json()["submission_id"]

    no_token = await api.client.get(f"/v1/submissions/{sid}")
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    assert (await api.client.get(f"/v1/submissions/{sid}", headers={"Authorization": "Bearer faux"})).status_code == 401
    assert (
        await api.client.get(f"/v1/submissions/{sid}", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 403
    assert (
        await api.client.get(f"/v1/submissions/{sid}", headers={"Authorization": f"Bearer {owner}"})
    ).status_code == 200
    # Operator-only endpoints refuse a collectivité's token.
    body = grille_body(edition)
    r = await api.client.put(f"/v1/editions/{edition}/grille", json=body, headers={"Authorization": f"Bearer {owner}"})
    assert r.status_code == 403
    r = await api.client.post(f"/v1/editions/{edition}/palmares", headers={"Authorization": f"Bearer {owner}"})
    assert r.status_code == 403


async def test_concurrent_requests_for_one_dossier_make_one_dossier(api: Api, codes: Codes, edition: int) -> None:
    """Requests for one dossier at once wait for each other: each sees what the one before it committed."""
    await api.publish_grille(grille_body(edition))
    contact = "mairie@ville.example"
    token = await api.register(codes.take("ville"), contact)
    at_once = await asyncio.gather(*(api.submit(token, edition, dossier(contact)) for _ in range(6)))
    assert [r.status_code for r in at_once] == [202] * 6, [r.text for r in at_once]
    assert len({r.json()["submission_id"] for r in at_once}) == 1, "one dossier, however many requests at once"
    assert sorted(r.json()["revision"] for r in at_once) == [1, 2, 3, 4, 5, 6]

    # The same idempotency key at once, on a collectivité's first request: one revision, the others replay it.
    token = await api.register(codes.take("ville"), contact)
    key = {"Idempotency-Key": "premier-envoi"}
    at_once = await asyncio.gather(*(api.submit(token, edition, dossier(contact), **key) for _ in range(4)))
    assert [r.status_code for r in at_once] == [202] * 4, [r.text for r in at_once]
    assert len({(r.json()["submission_id"], r.json()["revision"]) for r in at_once}) == 1
    assert at_once[0].json()["revision"] == 1
    assert sorted(r.headers.get("idempotent-replayed", "") for r in at_once) == ["", "true", "true", "true"]


async def test_campaign_window(api: Api, codes: Codes, edition: int) -> None:
    token = await api.register(codes.take("village"), "mairie@village.example")
    r = await api.submit(token, edition, dossier("mairie@village.example"))
    assert r.status_code == 409 and "n’est pas ouverte" in r.json()["error"]

    await api.publish_grille(grille_body(edition))
    r = await api.submit(token, edition, dossier("mairie@village.example"), **{"Idempotency-Key": "k1"})
    again = await api.submit(token, edition, dossier("mairie@village.example"), **{"Idempotency-Key": "k1"})
    assert r.status_code == again.status_code == 202
    assert again.json() == r.json() and again.headers["idempotent-replayed"] == "true"
    changed = await api.submit(token, edition, dossier("autre@village.example"), **{"Idempotency-Key": "k1"})
    assert changed.status_code == 422 and fields(changed.json()).keys() == {"Idempotency-Key"}

    published = await api.publish_palmares(edition)
    assert published.status_code == 202
    assert published.json()["catalogue_built"] is True, "a small edition's catalogue is built before the answer"
    assert (await api.publish_palmares(edition)).status_code == 409
    r = await api.submit(token, edition, dossier("mairie@village.example"))
    assert r.status_code == 409 and "est close" in r.json()["error"]
    body = grille_body(edition)
    r = await api.client.put(f"/v1/editions/{edition}/grille", json=body, headers=api.operator)
    assert r.status_code == 409
