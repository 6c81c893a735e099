"""A dossier's category is its edition's, and an operator can override it with a reason (real stack).

Forges-les-Eaux (76276) has 3,642 inhabitants today (a ville) and had 3,492 in
the populations légales in force at the 2017 deadline (a village).
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.factories import grille
from tests.integration.harness import Api, Codes, Stack, dossier, eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FORGES = "76276"
EDITION = 2017  # its millésime (2016) is the only one where Forges-les-Eaux is a village; no other test uses it
REASON = "Commune nouvelle avec Le Fossé depuis le 1er janvier 2016 : 3 989 habitants."


async def scored_category(stack: Stack, submission_id: str, revision: int) -> str | None:
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT payload->>'category' FROM submission.results "
            "WHERE submission_id = $1::uuid AND kind = 'score' AND revision = $2",
            submission_id,
            revision,
        )
    finally:
        await conn.close()


async def evaluated(api: Api, submission_id: str, revision: int) -> None:
    async def check() -> bool | None:
        view = await api.status(submission_id)
        return True if view["revision"] == revision and view["status"] in ("evaluated", "notified") else None

    await eventually(check, what=f"revision {revision} evaluated")


async def test_the_edition_decides_the_category_and_an_override_re_evaluates_the_dossier(
    stack: Stack, api: Api
) -> None:
    await api.publish_grille(grille(edition=EDITION).model_dump(mode="json", exclude={"version"}))
    r = await api.client.post(
        "/v1/collectivites", json={"code": FORGES, "contact_email": "mairie@forges.example"}, headers=api.operator
    )
    if r.status_code == 409:  # registered by another test of the session (today's category: ville)
        r = await api.client.post(f"/v1/collectivites/{FORGES}/token", headers=api.operator)
    assert r.status_code in (200, 201), r.text
    assert (r.json()["category"], r.json()["population"]) == ("ville", 3642)  # today's reference data
    token = r.json()["token"]

    path = f"/v1/editions/{EDITION}/collectivites/{FORGES}/category"
    view = (await api.client.get(path, headers=api.operator)).json()
    assert (view["category"], view["population"], view["millesime"], view["override"]) == ("village", 3492, 2016, None)

    submitted = await api.submit(token, EDITION, dossier("mairie@forges.example"))
    assert submitted.status_code == 202, submitted.text
    sid = submitted.json()["submission_id"]
    await evaluated(api, sid, 1)
    assert await scored_category(stack, sid, 1) == "village"

    # A reason is required, in French field messages.
    r = await api.client.put(path, json={"category": "ville", "decided_by": "Équipe"}, headers=api.operator)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "reason"

    r = await api.client.put(
        path, json={"category": "ville", "reason": REASON, "decided_by": "Équipe du label"}, headers=api.operator
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["category"], changed["category_from_population"], changed["revision"]) == ("ville", "village", 2)
    assert changed["override"]["reason"] == REASON and changed["override"]["decided_by"] == "Équipe du label"

    # The dossier's new revision (same actions) is scored as a ville.
    await evaluated(api, sid, 2)
    assert await eventually(lambda: scored_category(stack, sid, 2), what="revision 2 scored") == "ville"

    # The same decision again changes no revision; the audit trail keeps both, the latest first.
    r = await api.client.put(
        path, json={"category": "ville", "reason": "Confirmé.", "decided_by": "Équipe du label"}, headers=api.operator
    )
    assert r.status_code == 200 and r.json()["revision"] is None
    history = (await api.client.get(path, headers=api.operator)).json()["history"]
    assert [h["reason"] for h in history] == ["Confirmé.", REASON]

    # A later submission keeps the decision; the palmarès groups the dossier as scored.
    again = await api.submit(token, EDITION, dossier("mairie@forges.example", narrative="Deuxième version."))
    assert again.json()["revision"] == 3
    await evaluated(api, sid, 3)
    assert await eventually(lambda: scored_category(stack, sid, 3), what="revision 3 scored") == "ville"
    assert (await api.publish_palmares(EDITION)).status_code == 202
    palmares = (await api.client.get(f"/v1/editions/{EDITION}/palmares")).json()
    assert FORGES in {e["collectivite_code"] for e in palmares["villes"]}
    assert FORGES not in {e["collectivite_code"] for e in palmares["villages"]}

    # Once the palmarès is published the category no longer changes.
    r = await api.client.put(
        path,
        json={"category": "village", "reason": "Trop tard.", "decided_by": "Équipe du label"},
        headers=api.operator,
    )
    assert r.status_code == 409 and "palmarès" in r.json()["error"]


async def test_an_unregistered_collectivite_has_no_category(api: Api, codes: Codes) -> None:
    code = codes.take("village")  # handed out once per session: nobody registered it
    r = await api.client.get(f"/v1/editions/2017/collectivites/{code}/category", headers=api.operator)
    assert r.status_code == 404
