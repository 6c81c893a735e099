"""The comité's page of the tendances de la grille, in Chromium: a campaign under grille 2017 whose free text
describes services that grille 2018 added; a jury member reads them as themes (axe-core on the page)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.harness import AxeLog, check_page
from tests.browser.test_sign_in import operator_link, sign_in
from tests.factories import WRITTEN_IN_2017_ADDED_IN_2018
from tests.integration.harness import Api, Codes, Stack, dossier, next_edition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

GRILLE_2017 = Path(__file__).resolve().parents[2] / "deploy" / "grilles" / "grille-2017.json"
GRILLE_2018 = GRILLE_2017.with_name("grille-2018.json")


async def test_the_comite_reads_the_themes_the_grille_does_not_describe(
    stack: Stack, api: Api, codes: Codes, edition: int, context: BrowserContext, axe_log: AxeLog, shots: Path
) -> None:
    await api.publish_grille({**json.loads(GRILLE_2017.read_text(encoding="utf-8")), "edition": edition})
    # One dossier per text: its open data portal (a declared service of the grille), and the new practice.
    for i, (title, description) in enumerate(t for texts in WRITTEN_IN_2017_ADDED_IN_2018.values() for t in texts):
        code = codes.take(("village", "ville")[i % 2])
        email = f"tendances-{edition}-{code}@collectivites.example"
        body = dossier(email, services=["open_data_portail"])
        body["actions"][1]["services"] = ["espace_public_numerique"]
        body["actions"].append({"title": title, "description": description, "services": [], "started_on": "2016-05-01"})
        r = await api.submit(await api.register(code, email), edition, body)
        assert r.status_code == 202, r.text

    jury_email = f"comite-{edition}@jury.example"
    r = await api.client.post(
        "/v1/jury-members", json={"email": jury_email, "name": "Camille Comité"}, headers=api.operator
    )
    assert r.status_code == 201, r.text
    page = await context.new_page()
    await sign_in(page, stack, jury_email, await operator_link(api, jury_email))
    await page.goto("/espace/jury")
    await page.get_by_role("link", name=f"Tendances de la grille {edition}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Tendances de la grille {edition}")

    # Each service grille 2018 added is one theme, holding the actions written about it and nothing else.
    cards = page.locator("section.theme")
    await expect(cards).to_have_count(len(WRITTEN_IN_2017_ADDED_IN_2018))
    themes = [set(await card.locator("li strong").all_inner_texts()) for card in await cards.all()]
    written = [{title for title, _ in texts} for texts in WRITTEN_IN_2017_ADDED_IN_2018.values()]
    assert sorted(themes, key=sorted) == sorted(written, key=sorted)
    # A bar per theme, and the table of the same figures.
    await expect(page.locator("svg[role=img] rect.barre")).to_have_count(len(written))
    await expect(page.locator("table tbody tr")).to_have_count(len(written))
    await expect(page.locator("li[data-service='chatbot_municipal']")).to_have_count(0)  # not a 2017 service
    await expect(page.locator("li[data-service='open_data_portail']")).to_have_count(0)  # declared
    await expect(page.locator("li[data-service='fablab']")).to_have_count(1)  # nobody declared it
    await expect(page.locator("li[data-cite]")).to_have_count(0)  # no next grille yet

    # Once the next edition's grille is published, each theme names the service it added in answer.
    following = next_edition()
    assert following == edition + 1
    await api.publish_grille({**json.loads(GRILLE_2018.read_text(encoding="utf-8")), "edition": following})
    await page.reload()
    for code, texts in WRITTEN_IN_2017_ADDED_IN_2018.items():
        card = page.locator("section.theme", has=page.locator(f"li[data-cite='{code}']"))
        assert set(await card.locator("li strong").all_inner_texts()) == {title for title, _ in texts}
    await expect(page.get_by_text(f"La grille {following} (version 1) répond à trois thèmes")).to_have_count(1)
    # The operators' JSON says the same (additive fields).
    r = await api.client.get(f"/v1/editions/{edition}/tendances", headers=api.operator)
    assert r.status_code == 200, r.text
    assert r.json()["next_grille_version"] == 1
    cited = {s["code"]: {e["title"] for e in t["examples"]} for t in r.json()["themes"] for s in t["cited_by"]}
    assert cited == {code: {title for title, _ in texts} for code, texts in WRITTEN_IN_2017_ADDED_IN_2018.items()}
    assert await check_page(page, "jury-tendances", axe_log, shots) == []

    # The report's settings are a form (no JavaScript); a bad number is refused beside its field.
    await page.get_by_label("Nombre de dossiers qui font un thème").fill("3")
    await page.get_by_role("button", name="Mettre à jour").click()
    await expect(page.locator("section.theme")).to_have_count(1)  # only the chatbot has three dossiers
    response = await page.goto(f"/espace/jury/editions/{edition}/tendances?dossiers=0")
    assert response is not None and response.status == 400
    await expect(page.locator(".resume-erreurs")).to_contain_text("Indiquez un nombre de dossiers entre 1 et")
    await expect(page.get_by_label("Nombre de dossiers qui font un thème")).to_have_attribute("aria-invalid", "true")

    # Only jury members enter the espace jury.
    anonymous = await context.browser.new_context(base_url=stack.api_url) if context.browser else None
    assert anonymous is not None
    outsider = await anonymous.new_page()
    await outsider.goto(f"/espace/jury/editions/{edition}/tendances")
    assert outsider.url.endswith("/espace/connexion")
    await anonymous.close()
