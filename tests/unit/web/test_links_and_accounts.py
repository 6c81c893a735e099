"""The espaces' secrets (pure): dossier links across notify and submission, sign-in links, sessions, CSRF."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from itsdangerous import URLSafeTimedSerializer
from palmares_contracts.links import DOSSIER_LINK_MAX_AGE, DOSSIER_LINK_SALT
from palmares_notify.render import Sender
from palmares_submission.domain import accounts
from palmares_submission.web.links import DossierLinks
from palmares_submission.web.protection import CsrfTokens

KEY = "k" * 43


def token_of(link: str) -> str:
    return link.split("?token=", 1)[1]


def test_a_link_notify_signs_opens_that_dossier_in_the_submission_service_and_no_other() -> None:
    sid, other = uuid4(), uuid4()
    link = Sender(public_url="https://palmares.example/", link_key=KEY).dossier_url(sid)
    assert link.startswith(f"https://palmares.example/espace/dossiers/{sid}?token=")
    links = DossierLinks(KEY)
    assert links.opens(token_of(link), sid)
    assert not links.opens(token_of(link), other), "scoped to its dossier"
    assert not DossierLinks("z" * 43).opens(token_of(link), sid), "another key"
    assert not links.opens(token_of(link)[:-2] + "AA", sid), "tampered"
    assert not links.opens("", sid) and not links.opens("x" * 500, sid)


def test_a_link_opens_for_its_lifetime_and_not_after(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DOSSIER_LINK_MAX_AGE.days >= 30
    sid = uuid4()
    signed_at = time.time() - DOSSIER_LINK_MAX_AGE.total_seconds() + 3600
    monkeypatch.setattr(time, "time", lambda: signed_at)
    token = URLSafeTimedSerializer(KEY, salt=DOSSIER_LINK_SALT).dumps(str(sid))
    monkeypatch.undo()
    assert DossierLinks(KEY).opens(token, sid), "one hour before the end of its lifetime"
    monkeypatch.setattr(time, "time", lambda: signed_at - 7200)
    old = URLSafeTimedSerializer(KEY, salt=DOSSIER_LINK_SALT).dumps(str(sid))
    monkeypatch.undo()
    assert not DossierLinks(KEY).opens(old, sid), "one hour past it"


def test_without_a_key_notify_links_to_the_page_which_asks_to_sign_in() -> None:
    sid = uuid4()
    assert Sender(public_url="http://127.0.0.1:8000").dossier_url(sid) == f"http://127.0.0.1:8000/espace/dossiers/{sid}"
    # A page elsewhere (DOSSIER_URL) gets the same token.
    elsewhere = Sender(dossier_link="https://www.example.org/dossier?id={submission_id}", link_key=KEY).dossier_url(sid)
    assert elsewhere.startswith(f"https://www.example.org/dossier?id={sid}&token=")
    assert "link_key" not in repr(Sender(link_key=KEY)) and KEY not in repr(Sender(link_key=KEY))


def test_sign_in_secrets_store_only_a_hash_and_check_the_verifier() -> None:
    secret = accounts.new_sign_in_secret()
    selector, verifier = accounts.split_sign_in_token(secret.token) or ("", "")
    assert selector == secret.selector and verifier not in secret.verifier_hash.hex()
    assert accounts.verifier_matches(verifier, secret.verifier_hash)
    assert not accounts.verifier_matches(verifier[:-1] + ("A" if verifier[-1] != "A" else "B"), secret.verifier_hash)
    assert accounts.new_sign_in_secret().token != secret.token
    for bad in ("", "abc", secret.selector, f"{secret.selector}.", f"{secret.selector}.{verifier}x", "a" * 60 + ".b"):
        assert accounts.split_sign_in_token(bad) is None, bad


def test_a_stored_link_opens_once_with_its_verifier_before_it_expires() -> None:
    secret = accounts.new_sign_in_secret()
    _, verifier = accounts.split_sign_in_token(secret.token) or ("", "")
    now = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    fresh = accounts.StoredLink(secret.verifier_hash, "mairie@angers.example", now + timedelta(minutes=1), None)
    assert fresh.usable(now) and fresh.opens(verifier, now)
    assert not fresh.opens(verifier[::-1], now), "another verifier"
    assert not fresh.usable(now + timedelta(minutes=1)) and not fresh.opens(verifier, now + timedelta(minutes=1))
    used = replace(fresh, used_at=now - timedelta(seconds=5))
    assert not used.usable(now) and not used.opens(verifier, now)
    assert accounts.sign_in_url("https://palmares.example", secret.token) == (
        f"https://palmares.example/espace/connexion/lien?token={secret.token}"
    )


def test_session_ids_are_random_and_stored_hashed() -> None:
    first, second = accounts.new_session_id(), accounts.new_session_id()
    assert first != second and len(first) == 43
    key = accounts.session_key(first)
    assert key is not None and first.encode() not in key
    assert accounts.session_key("not-a-session") is None


def test_accounts_say_who_may_read_and_edit_what() -> None:
    mairie = accounts.Collectivite("49007", "Angers", "ville", "49")
    collectivite = accounts.Account("m@angers.example", (mairie,))
    jury = accounts.Account("j@jury.example", jury=accounts.JuryMember(uuid4(), "j@jury.example", "J"))
    nobody = accounts.Account("x@example.org")
    assert collectivite.may_read("49007") and collectivite.may_edit("49007")
    assert not collectivite.may_read("75056") and collectivite.home == "/espace/collectivite"
    assert jury.may_read("75056") and not jury.may_edit("75056") and jury.home == "/espace/jury"
    assert not nobody.exists and nobody.home == "/espace/connexion"
    assert accounts.normalise_email("  Mairie@Angers.Example ") == "mairie@angers.example"


def test_csrf_tokens_belong_to_one_browser_and_one_session() -> None:
    csrf = CsrfTokens(KEY)
    browser = csrf.new_browser_id()
    token = csrf.token(browser, "session-1")
    assert csrf.valid(token, browser, "session-1")
    assert not csrf.valid(token, browser, "session-2"), "signing in changes the token"
    assert not csrf.valid(token, csrf.new_browser_id(), "session-1"), "another browser"
    assert not csrf.valid(token, browser, None)
    assert not CsrfTokens("z" * 43).valid(token, browser, "session-1")
    assert not csrf.valid("", browser, "session-1") and not csrf.valid(None, browser, None)
