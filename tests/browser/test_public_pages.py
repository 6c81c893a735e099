"""The catalogue of labelled actions and the observatoire, end to end: dossiers through the four services,
the palmarès published, then the public API and pages in Chromium (axe-core on each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.harness import AxeLog, check_page
from tests.factories import grille
from tests.integration.harness import Api, Codes, Stack, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def test_catalogue_and_observatoire_after_the_palmares(
    stack: Stack, api: Api, codes: Codes, edition: int, context: BrowserContext, axe_log: AxeLog, shots: Path
) -> None:
    await api.publish_grille(grille(edition=edition).model_dump(mode="json", exclude={"version"}))
    submitted = {}
    for kind in ("village", "ville", "territoire"):
        code = codes.take(kind)
        email = f"catalogue-{edition}-{code}@collectivites.example"
        body = dossier(email)
        body["actions"].append(
            {
                "title": "Registre des délibérations",
                "description": "Un brouillon que la collectivité garde pour elle.",
                "services": [],
                "started_on": "2016-03-01",
                "catalogue": False,
            }
        )
        r = await api.submit(await api.register(code, email), edition, body)
        assert r.status_code == 202, r.text
        submitted[code] = r.json()["submission_id"]
    for sid in submitted.values():
        await api.wait_status(sid, "notified")
    assert (await api.client.get("/v1/actions", params={"edition": edition})).json()["total"] == 0  # not yet public
    assert (await api.client.get(f"/v1/editions/{edition}/observatoire")).status_code == 404
    assert (await api.publish_palmares(edition)).status_code == 202

    found = (await api.client.get("/v1/actions", params={"edition": edition, "q": "atelier senior"})).json()
    assert {i["collectivite_code"] for i in found["items"]} == set(submitted)
    assert all("<mark>" in i["excerpt_highlighted"] for i in found["items"])
    everything = (await api.client.get("/v1/actions", params={"edition": edition, "limit": 100})).json()
    assert everything["total"] == 6  # 2 actions × 3 dossiers; the withheld drafts stay out
    assert "brouillon" not in str(everything) and "@collectivites.example" not in str(everything)
    # The operator (or the collectivité) puts a withheld action back.
    sid = next(iter(submitted.values()))
    r = await api.client.put(
        f"/v1/submissions/{sid}/actions/2/catalogue", json={"published": True}, headers=api.operator
    )
    assert r.status_code == 200, r.text
    assert (await api.client.get("/v1/actions", params={"edition": edition, "q": "brouillon"})).json()["total"] == 1
    anonymous = await api.client.put(f"/v1/submissions/{sid}/actions/2/catalogue", json={"published": False})
    assert anonymous.status_code == 401

    # The comité's tendances: the drafts match no service of the grille; three dossiers share their words.
    found = (await api.client.get(f"/v1/editions/{edition}/tendances", headers=api.operator)).json()
    assert found["undescribed"] == 3
    assert (found["themes"][0]["label"], found["themes"][0]["dossiers"]) == ("registre des délibérations", 3)
    assert {s["code"] for s in found["undeclared_services"]} >= {"conseil_en_direct", "paiement_cantine"}
    assert (await api.client.get(f"/v1/editions/{edition}/tendances")).status_code == 401

    observed = (await api.client.get(f"/v1/editions/{edition}/observatoire", params={"by": "kind"})).json()
    kinds = {r["key"]: r for r in observed["rows"]}
    assert sum(r["participants"] for r in kinds.values()) == 3 and observed["total"]["labelled"] == 3

    page = await context.new_page()
    await page.goto(f"/palmares/{edition}")
    await page.get_by_role("link", name="les actions des collectivités labellisées").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Actions des collectivités labellisées")
    await page.get_by_label("Que cherchez-vous").fill("ateliers pour les seniors")
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.get_by_role("heading", level=2, name="3 actions")).to_be_visible()
    await expect(page.locator("ol.resultats mark").first).to_be_visible()
    assert await check_page(page, "actions-recherche", axe_log, shots) == []

    await page.goto(f"/palmares/{edition}")
    await page.get_by_role("link", name=f"l’observatoire des inégalités numériques {edition}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Observatoire des inégalités numériques {edition}")
    await expect(page.locator("svg[role=img] rect.barre")).not_to_have_count(0)
    assert await check_page(page, "observatoire-edition", axe_log, shots) == []
    # The map of France: a tile per département on each of its two maps, its figures in a linked table.
    await expect(page.locator("#carte ~ .cartes svg g.tuile")).to_have_count(2 * 109)
    await expect(page.locator('svg g.tuile[data-departement="974"] title').first).to_contain_text("La Réunion (974)")
    await page.get_by_role("link", name="le tableau des labels").click()
    await expect(page.locator("#repartition ~ table")).to_contain_text("Maine-et-Loire (49)")
    await expect(page.locator("#essentiels ~ table").first).to_be_visible()
    await page.get_by_role("link", name="Tranches de population").click()
    await expect(page.get_by_role("table").first).to_contain_text("moins de 500")
    await page.goto("/observatoire")
    await expect(page.get_by_role("link", name=str(edition))).to_be_visible()
    assert await check_page(page, "observatoire-editions", axe_log, shots) == []
