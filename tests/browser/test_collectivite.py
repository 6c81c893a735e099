"""The espace collectivité in Chromium: the dossier opened from the link of the receipt email."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.harness import AxeLog, check_page, links_in, mail_to
from tests.factories import grille
from tests.integration.harness import Api, Codes, Stack, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_the_link_of_the_receipt_opens_the_dossier_page_with_no_other_step(
    stack: Stack, api: Api, codes: Codes, edition: int, context: BrowserContext, axe_log: AxeLog, shots: Path
) -> None:
    await api.publish_grille(grille(edition=edition).model_dump(mode="json", exclude={"version"}))
    code = codes.take("ville")
    email = f"recu-{code}@mairie.example"
    token = await api.register(code, email)
    r = await api.submit(token, edition, dossier(email))
    assert r.status_code == 202, r.text
    sid = r.json()["submission_id"]
    view = await api.wait_status(sid, "notified")
    receipt = await mail_to(stack.mail_dir, email, "Dossier reçu")
    (link,) = [link for link in links_in(receipt) if "/espace/dossiers/" in link]
    assert link.startswith(f"{stack.api_url}/espace/dossiers/{sid}?token=")
    assert token not in receipt.text(), "never the API token"

    page = await context.new_page()  # no session, no cookie: the link alone
    response = await page.goto(link)
    assert response is not None and response.status == 200
    # « Dossier 2017 du Mans », « d’Agen », « de Fréhel »: never « de Le Mans ».
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^Dossier {edition} (du|des|de|d’) ?\S")
    )
    await expect(page.locator(".bandeau")).to_contain_text("en lecture seule")
    await expect(page.get_by_role("link", name="Modifier le dossier")).to_have_count(0)
    await expect(page.locator(".frise li.fait")).to_have_count(3)  # reçu → évalué → notifié
    await expect(page.locator(".note .arobases").first).to_have_attribute(
        "aria-label", f"{view['arobases']} arobase{'s' if view['arobases'] > 1 else ''} sur 5"
    )
    await expect(
        page.locator("figure.couverture svg rect.barre, figure.couverture svg rect.barre-pleine")
    ).not_to_have_count(0)
    await expect(page.get_by_role("row", name="Accusé de réception")).to_be_visible()
    for mention in view["mentions"]:
        await expect(page.get_by_role("heading", level=3, name=mention["label"])).to_be_visible()
    assert await check_page(page, "dossier-lien-courriel", axe_log, shots) == []

    # The token opens that dossier only, and a tampered one nothing.
    other = await context.new_page()
    signed = link.split("?token=")[1]
    r2 = await other.goto(f"/espace/dossiers/{sid}?token={signed[:-3]}xyz")
    assert r2 is not None and r2.status == 401
    await expect(other.get_by_role("heading", level=1)).to_have_text("Connexion nécessaire")
    assert await check_page(other, "dossier-connexion-necessaire", axe_log, shots) == []
    r3 = await other.goto(f"/espace/dossiers/00000000-0000-4000-8000-000000000000?token={signed}")
    assert r3 is not None and r3.status == 401
