"""Sign-in by a link sent by email, in Chromium: the link read from the SMTP capture, sessions, sign-out.

Every page state met on the way is checked with axe-core (no serious or
critical violation) and photographed.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest
from palmares_stack.pytest_plugin import Infra
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.harness import AxeLog, check_page, count_mails, links_in, mail_to
from tests.integration.harness import Api, Codes, Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

LINK_SUBJECT = "Votre lien de connexion"


async def sign_in_link(page: Page, stack: Stack, email: str) -> str:
    """Ask for a link on the sign-in page; the link as the SMTP capture received it."""
    before = count_mails(stack.mail_dir, email, LINK_SUBJECT)
    await page.goto("/espace/connexion")
    await page.get_by_label("Quelle est votre adresse électronique ?").fill(email)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    mail = await mail_to(stack.mail_dir, email, LINK_SUBJECT, after=before)
    return next(link for link in links_in(mail) if "/espace/connexion/lien?token=" in link)


async def sign_in(page: Page, stack: Stack, email: str, link: str | None = None) -> None:
    await page.goto(link or await sign_in_link(page, stack, email))
    await page.get_by_role("button", name="Me connecter").click()


async def operator_link(api: Api, email: str) -> str:
    """A sign-in link issued by an operator (`POST /v1/sign-in-links`), as support or the demo do."""
    r = await api.client.post("/v1/sign-in-links", json={"email": email}, headers=api.operator)
    assert r.status_code == 201, r.text
    return str(r.json()["url"])


async def cookie(context: BrowserContext, name: str) -> dict[str, object] | None:
    return next((dict(c) for c in await context.cookies() if c["name"] == name), None)


async def test_a_collectivite_signs_in_with_the_link_of_its_email_and_signs_out(
    stack: Stack, api: Api, codes: Codes, context: BrowserContext, axe_log: AxeLog, shots: Path
) -> None:
    code = codes.take("ville")
    email = f"connexion-{code}@mairie.example"
    await api.register(code, email)
    page = await context.new_page()

    await page.goto("/espace")
    assert page.url.endswith("/espace/connexion")
    assert await check_page(page, "connexion", axe_log, shots) == []

    # No address: the error in a summary at the top (linking to the field) and beside the field.
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page).to_have_title(
        "Erreur\u00a0: Se connecter — Espace du label — Territoires, Villes et Villages Internet"
    )
    await expect(page.locator(".resume-erreurs a[href='#email']")).to_have_text("Saisissez votre adresse électronique.")
    await expect(page.locator("#email-erreur")).to_contain_text("Saisissez votre adresse électronique.")
    await expect(page.get_by_label("Quelle est votre adresse électronique ?")).to_have_attribute("aria-invalid", "true")
    assert await check_page(page, "connexion-erreur", axe_log, shots) == []
    await page.get_by_label("Quelle est votre adresse électronique ?").fill("pas-une-adresse")
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.locator("#email-erreur")).to_contain_text("par exemple mairie@exemple.fr")
    await expect(page.get_by_label("Quelle est votre adresse électronique ?")).to_have_value("pas-une-adresse")

    # The address typed in capitals is the same account.
    await page.get_by_label("Quelle est votre adresse électronique ?").fill(email.upper())
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    assert await check_page(page, "lien-envoye", axe_log, shots) == []
    mail = await mail_to(stack.mail_dir, email, LINK_SUBJECT)
    link = next(link for link in links_in(mail) if "/espace/connexion/lien?token=" in link)
    assert link.startswith(stack.api_url + "/espace/connexion/lien?token="), "the public URL of the configuration"
    assert "15" in mail.text() and "ne sert qu’une fois" in mail.text()
    csrf_before = await cookie(context, "palmares-csrf")
    assert csrf_before is not None

    # Opening the link shows a button (a mail filter that opens links does not use it up).
    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la connexion")
    assert await check_page(page, "connexion-confirmer", axe_log, shots) == []
    await page.get_by_role("button", name="Me connecter").click()
    assert page.url.endswith("/espace/collectivite")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    session = await cookie(context, "palmares-session")
    assert session is not None and session["httpOnly"] is True and session["sameSite"] == "Lax"
    assert session["secure"] is False  # served over http here; `Secure` when PALMARES_PUBLIC_URL is https
    csrf_after = await cookie(context, "palmares-csrf")
    assert csrf_after is not None and csrf_after["value"] != csrf_before["value"], "CSRF id renewed at sign-in"
    assert await check_page(page, "tableau-de-bord-vide", axe_log, shots) == []

    # Single use: the same link again is refused.
    again = await context.new_page()
    response = await again.goto(link)
    assert response is not None and response.status == 400
    await expect(again.get_by_role("heading", level=1)).to_have_text("Ce lien de connexion n’est plus valable")
    assert await check_page(again, "lien-invalide", axe_log, shots) == []
    await again.close()

    # Sign-out closes the session: the dashboard asks to sign in again.
    await page.get_by_role("button", name="Se déconnecter").click()
    assert page.url.endswith("/espace/connexion?session=fermee")
    await expect(page.get_by_role("status")).to_contain_text("Votre session est fermée.")
    assert await cookie(context, "palmares-session") is None
    await page.goto("/espace/collectivite")
    assert page.url.endswith("/espace/connexion")


async def test_the_answer_is_the_same_for_an_unknown_address_and_sign_in_is_rate_limited(
    stack: Stack, context: BrowserContext, codes: Codes
) -> None:
    page = await context.new_page()
    unknown = f"inconnue-{codes.take('village')}@mairie.example"
    texts = []
    for _ in range(5):
        await page.goto("/espace/connexion")
        await page.get_by_label("Quelle est votre adresse électronique ?").fill(unknown)
        await page.get_by_role("button", name="Recevoir un lien de connexion").click()
        texts.append(await page.locator("main").inner_text())
    assert len(set(texts)) == 1 and "Si l’adresse" in texts[0]
    # Over the limit of the address (5 an hour): 429, and still nothing said about the address.
    await page.goto("/espace/connexion")
    await page.get_by_label("Quelle est votre adresse électronique ?").fill(unknown)
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    assert (await answer.value).status == 429
    assert (await answer.value).headers["retry-after"] == "600"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Trop de demandes de connexion")
    # Nothing was sent to an address nobody registered.
    assert count_mails(stack.mail_dir, unknown, LINK_SUBJECT) == 0


async def test_sessions_rotate_links_expire_and_forms_need_their_csrf_token(
    stack: Stack, api: Api, codes: Codes, context: BrowserContext, infra: Infra
) -> None:
    code = codes.take("ville")
    email = f"rotation-{code}@mairie.example"
    await api.register(code, email)
    page = await context.new_page()
    await sign_in(page, stack, email)
    first = await cookie(context, "palmares-session")
    assert first is not None
    # Signing in again in the same browser: a new session id, and the old one no longer opens anything.
    await sign_in(page, stack, email, await operator_link(api, email))
    second = await cookie(context, "palmares-session")
    assert second is not None and second["value"] != first["value"]

    def client(session: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=stack.api_url, cookies={"palmares-session": str(session)})

    async with client(first["value"]) as old, client(second["value"]) as current:
        r = await old.get("/espace/collectivite")
        assert r.status_code == 303 and r.headers["location"] == "/espace/connexion"
        r = await current.get("/espace/collectivite")
        assert r.status_code == 200
        # Every page carries the Content-Security-Policy and is never cached.
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
        # A form posted without this browser's token (from another site, say) changes nothing.
        r = await current.post("/espace/deconnexion", data={"csrf": "x" * 40})
        assert r.status_code == 403 and "<h1>Formulaire expiré</h1>" in r.text
        r = await current.get("/espace/collectivite")
        assert r.status_code == 200, "the session survived the forged sign-out"
    # The CSP holds in the browser: an inline script injected into a page does not run.
    await page.goto("/espace/collectivite")
    ran = await page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.injected = true';
                   document.head.appendChild(s); return window.injected === true; }"""
    )
    assert ran is False

    # A link older than 15 minutes is refused (its expiry moved into the past in the database).
    link = await operator_link(api, email)
    assert (
        await api.client.post("/v1/sign-in-links", json={"email": "personne@nulle.example"}, headers=api.operator)
    ).status_code == 404
    conn = await asyncpg.connect(infra.database_url)
    try:
        selector = link.split("token=")[1].split(".")[0]
        await conn.execute(
            "UPDATE submission.sign_in_links SET expires_at = now() - interval '1 second' WHERE selector = $1",
            selector,
        )
    finally:
        await conn.close()
    response = await page.goto(link)
    assert response is not None and response.status == 400
