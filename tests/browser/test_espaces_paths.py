"""The espaces' main paths in Chromium: a collectivité deposits and revises its dossier with the form, the jury
filters its worklist and decides (a mention removed, another added), the palmarès and the dossier page show it.

Every page state met on the way is checked with axe-core (no serious or
critical violation) and photographed (PALMARES_PAGE_SCREENSHOTS=docs/pages).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.harness import AxeLog, axe_source, check_page
from tests.browser.test_sign_in import operator_link, sign_in
from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def _send(page: Page) -> None:
    await (
        page.get_by_role("button", name="Déposer le dossier")
        .or_(page.get_by_role("button", name="Enregistrer les modifications"))
        .click()
    )


async def test_a_collectivite_deposits_then_revises_its_dossier_and_the_jury_decides_on_it(
    stack: Stack,
    api: Api,
    codes: Codes,
    edition: int,
    browser: Browser,
    context: BrowserContext,
    axe_log: AxeLog,
    shots: Path,
) -> None:
    await api.publish_grille(grille_body(edition))
    code = codes.take("ville")
    email = f"formulaire-{code}@mairie.example"
    await api.register(code, email)
    page = await context.new_page()
    await sign_in(page, stack, email, await operator_link(api, email))

    # The dashboard leads to the form of the open campaign.
    await page.get_by_role("link", name=f"Déposer un dossier pour {edition}").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Déposer le dossier {edition} d")
    assert await check_page(page, "formulaire-depot", axe_log, shots) == []

    # Nothing typed: the error at the top and beside the first field.
    await _send(page)
    await expect(page.locator("#actions-0-title-erreur")).to_contain_text("Décrivez au moins une action")
    # A wrong web address: the error beside it, in French, and everything typed is kept.
    await page.locator("#actions-0-title").fill("Portail de données ouvertes")
    await page.locator("#actions-0-description").fill("Les données de la commune publiées sur data.gouv.fr.")
    await page.locator("#actions-0-started_on").fill("2016-01-15")
    await page.locator("#actions-0-url").fill("ftp://donnees.mairie.example/")
    await page.locator("#actions-0-service-portail_open_data").check()
    await page.locator("#narrative").fill("Une démarche d’ouverture des données.")
    await _send(page)
    await expect(page.locator("#actions-0-url-erreur")).to_contain_text("Action 1, l’adresse web")
    await expect(page.locator("#actions-0-url-erreur")).to_contain_text("http et https")
    await expect(page.locator(".resume-erreurs a[href='#actions-0-url']")).to_be_visible()
    await expect(page.locator("#actions-0-url")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#actions-0-title")).to_have_value("Portail de données ouvertes")
    await expect(page.locator("#actions-0-service-portail_open_data")).to_be_checked()
    await expect(page.locator("#narrative")).to_have_value("Une démarche d’ouverture des données.")
    assert await check_page(page, "formulaire-erreur", axe_log, shots) == []

    # A second action, added without JavaScript (the form comes back with one more block).
    await page.get_by_role("button", name="Ajouter une action").click()
    await page.locator("#actions-0-url").fill("https://donnees.mairie.example/")
    await page.locator("#actions-1-title").fill("Espace public numérique")
    await page.locator("#actions-1-description").fill("Ateliers pour les seniors, deux fois par semaine.")
    await page.locator("#actions-1-started_on").fill("2015-09-01")
    await page.locator("#actions-1-service-espace_public_numerique").check()
    await _send(page)
    await expect(page.locator(".bandeau-succes")).to_contain_text("Votre dossier est déposé")
    sid = page.url.split("/espace/dossiers/")[1].split("?")[0]
    view = await api.wait_status(sid, "notified")
    assert view["revision"] == 1 and [m["code"] for m in view["mentions"]] == ["gouvernement_ouvert"]

    # Revised: the form comes filled with the current revision.
    await page.goto(f"/espace/collectivites/{code}/editions/{edition}/dossier")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Modifier le dossier {edition} d")
    await expect(page.locator("#actions-1-title")).to_have_value("Espace public numérique")
    assert await check_page(page, "formulaire-revision", axe_log, shots) == []
    await page.locator("#actions-1-description").fill("Ateliers pour les seniors et les demandeurs d’emploi.")
    await _send(page)
    await expect(page.locator(".bandeau-succes")).to_contain_text("Votre dossier est modifié")
    await api.wait_status(sid, "notified", revision=2)

    # The jury: the worklist filtered to this collectivité, the review page, a mention removed and one added.
    r = await api.client.post(
        "/v1/jury-members",
        json={"email": f"jury-{edition}@jury.example", "name": "Dominique Juré"},
        headers=api.operator,
    )
    assert r.status_code == 201, r.text
    jury_context = await browser.new_context(
        base_url=stack.api_url, locale="fr-FR", viewport={"width": 1100, "height": 900}
    )
    await jury_context.add_init_script(script=axe_source())
    jury_page = await jury_context.new_page()
    await sign_in(
        jury_page, stack, f"jury-{edition}@jury.example", await operator_link(api, f"jury-{edition}@jury.example")
    )
    await jury_page.goto(f"/espace/jury/editions/{edition}?onglet=a-examiner&q={code}")
    await expect(jury_page.locator(".onglets a[aria-current='page']")).to_contain_text("À examiner")
    assert await check_page(jury_page, "jury-liste", axe_log, shots) == []
    await jury_page.locator(f"a[href='/espace/jury/dossiers/{sid}']").click()
    await expect(jury_page.get_by_role("heading", level=1)).to_contain_text("Examen du dossier d")
    await expect(jury_page.locator("#mention-gouvernement_ouvert")).to_be_checked()
    assert await check_page(jury_page, "jury-examen", axe_log, shots) == []
    await jury_page.locator("#arobases-4").check()
    await jury_page.locator("#mention-gouvernement_ouvert").uncheck()
    await jury_page.locator("#mention-reseaux_sociaux").check()
    await jury_page.locator("#comment").fill("Une démarche à suivre.")
    await jury_page.get_by_role("button", name="Enregistrer la décision").click()
    await expect(jury_page.locator(".bandeau-succes")).to_have_text("Décision enregistrée.")
    await expect(jury_page.locator("#mention-reseaux_sociaux")).to_be_checked()
    await expect(jury_page.locator("#mention-gouvernement_ouvert")).not_to_be_checked()
    assert await check_page(jury_page, "jury-decision-enregistree", axe_log, shots) == []
    await jury_page.goto(f"/espace/jury/editions/{edition}?onglet=decides")
    await expect(jury_page.locator(f"a[href='/espace/jury/dossiers/{sid}']")).to_be_visible()
    await jury_context.close()

    # Before the palmarès, the collectivité does not see the decision; after it, the palmarès and its page do.
    await page.goto(f"/espace/dossiers/{sid}")
    await expect(page.get_by_role("heading", level=2, name="Décision du jury")).to_have_count(0)
    r = await api.publish_palmares(edition)
    assert r.status_code == 202, r.text
    await page.goto(f"/palmares/{edition}")
    entry = page.locator(f"tr[data-code='{code}']")
    await expect(entry).to_contain_text("Réseaux sociaux")
    await expect(entry).not_to_contain_text("Gouvernement ouvert")
    await page.goto(f"/espace/dossiers/{sid}")
    await expect(page.get_by_role("heading", level=2, name="Décision du jury")).to_be_visible()
    await expect(page.locator("blockquote")).to_contain_text("Une démarche à suivre.")
    await expect(page.get_by_role("heading", level=3, name="Réseaux sociaux")).to_be_visible()
    assert await check_page(page, "dossier-apres-palmares", axe_log, shots) == []


async def test_after_the_closing_instant_the_form_says_when_the_campaign_closed(
    stack: Stack, api: Api, codes: Codes, edition: int, context: BrowserContext, axe_log: AxeLog, shots: Path
) -> None:
    closes_at = (datetime.now(UTC) - timedelta(days=2)).replace(hour=17, minute=0, second=0, microsecond=0)
    await api.publish_grille(grille_body(edition, closes_at=closes_at.isoformat()))
    code = codes.take("village")
    email = f"close-{code}@mairie.example"
    await api.register(code, email)
    page = await context.new_page()
    await sign_in(page, stack, email, await operator_link(api, email))
    response = await page.goto(f"/espace/collectivites/{code}/editions/{edition}/dossier")
    assert response is not None and response.status == 409
    await expect(page.get_by_role("heading", level=1)).to_have_text("Campagne close")
    await expect(page.locator("main")).to_contain_text(f"La campagne {edition} est close depuis le ")
    await expect(page.locator("main")).to_contain_text("(heure de Paris)")
    assert await check_page(page, "formulaire-campagne-close", axe_log, shots) == []

    # Reopened by an operator: the form is back.
    r = await api.client.put(f"/v1/editions/{edition}/collectivites/{code}/reopening", json={}, headers=api.operator)
    assert r.status_code == 200, r.text
    response = await page.goto(f"/espace/collectivites/{code}/editions/{edition}/dossier")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Déposer le dossier {edition} d")
