"""The jury through the API: `jur_` tokens read and decide (never publish), the worklist as JSON,
the jury's mentions in the palmarès and the status view once the palmarès is published."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, dossier, eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _evaluated(api: Api, sid: str) -> dict[str, Any]:
    return await api.wait_status(sid, "notified")


async def test_a_jury_member_reads_filters_and_decides_but_never_publishes(
    api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    r = await api.client.post(
        "/v1/jury-members",
        json={"email": f"jure-{edition}@jury.example", "name": "Camille Jurée"},
        headers=api.operator,
    )
    assert r.status_code == 201, r.text
    member_id, jury_token = r.json()["member_id"], r.json()["token"]
    assert jury_token.startswith("jur_")
    jury = {"Authorization": f"Bearer {jury_token}"}

    sids: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for category in ("ville", "ville", "village"):
        code = codes.take(category)
        tokens[code] = await api.register(code, f"jury-{code}@mairie.example")
        r = await api.submit(tokens[code], edition, dossier(f"jury-{code}@mairie.example"))
        assert r.status_code == 202, r.text
        sids[code] = r.json()["submission_id"]
    for sid in sids.values():
        await _evaluated(api, sid)
    first, second, third = sids

    # The worklist: every dossier, filters, a page at a time.
    url = f"/v1/editions/{edition}/submissions"
    r = await api.client.get(url, headers=jury)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 3 and page["next_cursor"] is None
    item = next(i for i in page["items"] if i["collectivite_code"] == first)
    assert item["submission_id"] == sids[first] and item["revision"] == 1
    assert item["arobases"] is not None and item["jury_arobases"] is None
    assert item["mentions"] == ["gouvernement_ouvert"] and item["status"] == "notified"
    assert {i["category"] for i in page["items"]} == {"ville", "village"}
    r = await api.client.get(url, params={"category": "village"}, headers=jury)
    assert [i["collectivite_code"] for i in r.json()["items"]] == [third]
    r = await api.client.get(url, params={"q": third}, headers=jury)
    assert [i["collectivite_code"] for i in r.json()["items"]] == [third]
    r = await api.client.get(url, params={"limit": 2}, headers=api.operator)
    assert len(r.json()["items"]) == 2 and r.json()["total"] == 3 and r.json()["next_cursor"]
    r2 = await api.client.get(url, params={"limit": 2, "cursor": r.json()["next_cursor"]}, headers=api.operator)
    assert len(r2.json()["items"]) == 1 and r2.json()["next_cursor"] is None
    seen = {i["submission_id"] for i in r.json()["items"] + r2.json()["items"]}
    assert seen == set(sids.values())
    r = await api.client.get(url, params={"cursor": "pas-un-curseur"}, headers=jury)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "cursor"
    r = await api.client.get(url, headers={"Authorization": f"Bearer {tokens[first]}"})
    assert r.status_code == 403

    # The jury decides: removes the detected mention, adds another; signed with the member's name.
    r = await api.client.post(
        f"/v1/submissions/{sids[first]}/jury-decision",
        json={"arobases": 5, "comment": "Exemplaire.", "mentions": ["reseaux_sociaux"]},
        headers=jury,
    )
    assert r.status_code == 202, r.text
    decision = r.json()
    assert decision["decided_by"] == "Camille Jurée" and decision["revision"] == 1
    assert [m["code"] for m in decision["mentions"]] == ["reseaux_sociaux"]
    r = await api.client.post(
        f"/v1/submissions/{sids[second]}/jury-decision", json={"arobases": 2, "mentions": ["inventee"]}, headers=jury
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "mentions.0"
    r = await api.client.post(f"/v1/submissions/{sids[second]}/jury-decision", json={"arobases": 2}, headers=jury)
    assert r.status_code == 202, r.text

    r = await api.client.get(url, params={"decided": "true"}, headers=jury)
    decided = {i["collectivite_code"]: i for i in r.json()["items"]}
    assert set(decided) == {first, second}
    assert decided[first]["jury_arobases"] == 5 and decided[first]["mentions"] == ["reseaux_sociaux"]
    assert decided[second]["mentions"] == ["gouvernement_ouvert"]  # not ruled on: the detected ones stand
    r = await api.client.get(url, params={"mention": "reseaux_sociaux"}, headers=jury)
    assert [i["collectivite_code"] for i in r.json()["items"]] == [first]

    # Before the palmarès, the collectivité does not see the decision; the jury does.
    r = await api.client.get(f"/v1/submissions/{sids[first]}", headers={"Authorization": f"Bearer {tokens[first]}"})
    assert r.json()["jury"] is None and [m["code"] for m in r.json()["mentions"]] == ["gouvernement_ouvert"]
    r = await api.client.get(f"/v1/submissions/{sids[first]}", headers=jury)
    assert r.json()["jury"]["arobases"] == 5

    # A jury member never publishes.
    r = await api.client.put(f"/v1/editions/{edition}/grille", json=grille_body(edition), headers=jury)
    assert r.status_code == 403
    r = await api.client.post(f"/v1/editions/{edition}/palmares", headers=jury)
    assert r.status_code == 403
    r = await api.client.post(f"/v1/collectivites/{first}/token", headers=jury)
    assert r.status_code == 403

    r = await api.publish_palmares(edition)
    assert r.status_code == 202, r.text
    r = await api.client.get(f"/v1/editions/{edition}/palmares")
    entries = {e["collectivite_code"]: e for group in ("villages", "villes") for e in r.json()[group]}
    assert entries[first]["arobases"] == 5 and entries[first]["mentions"] == ["Réseaux sociaux"]
    assert entries[second]["mentions"] == ["Gouvernement ouvert"]
    r = await api.client.get(f"/v1/submissions/{sids[first]}", headers={"Authorization": f"Bearer {tokens[first]}"})
    view = r.json()
    assert view["jury"]["arobases"] == 5 and view["jury"]["comment"] == "Exemplaire."
    assert [m["code"] for m in view["mentions"]] == ["reseaux_sociaux"]

    # Revoked: the token answers 401 at once.
    r = await api.client.delete(f"/v1/jury-members/{member_id}", headers=api.operator)
    assert r.status_code == 204

    async def refused() -> bool | None:
        return (await api.client.get(url, headers=jury)).status_code == 401 or None

    await eventually(refused, 10, "the revoked token refused")
