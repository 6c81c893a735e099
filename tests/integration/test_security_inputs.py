"""Hostile input against the real submission service: each answer is a clear 4xx naming the field, in French.

`HOSTILE` is the table of what was tried; run with `-s` to print what each got back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import grille_body
from tests.integration.harness import Codes, Stack, dossier, open_edition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MIB = 1024 * 1024


@dataclass
class Target:
    client: httpx.AsyncClient
    operator: dict[str, str]
    collectivite: dict[str, str]
    edition: int
    submission_id: str


@pytest.fixture(scope="module")
async def target(stack: Stack, codes: Codes) -> AsyncIterator[Target]:
    async with open_edition(stack, http_timeout_s=60) as (api, edition):
        token = await api.register(codes.take("ville"), "hostile@ville.example")
        r = await api.submit(token, edition, dossier("hostile@ville.example"))
        assert r.status_code == 202, r.text
        yield Target(api.client, api.operator, {"Authorization": f"Bearer {token}"}, edition, r.json()["submission_id"])


def with_action(**fields: Any) -> dict[str, Any]:
    body = dossier("hostile@ville.example")
    body["actions"][0].update(fields)
    return body


def submit(body: Any = None, *, raw: bytes | None = None, **headers: str) -> Callable[[Target], Any]:
    def send(t: Target) -> Any:
        path = f"/v1/editions/{t.edition}/submissions"
        all_headers = {**t.collectivite, **headers}
        if raw is not None:
            return t.client.post(path, content=raw, headers={"Content-Type": "application/json", **all_headers})
        return t.client.post(path, json=body, headers=all_headers)

    return send


def operator(method: str, path: str, body: Any = None) -> Callable[[Target], Any]:
    def send(t: Target) -> Any:
        return t.client.request(
            method, path.format(edition=t.edition, sid=t.submission_id), json=body, headers=t.operator
        )

    return send


def hostile_grille() -> dict[str, Any]:
    body = grille_body(2000)
    body["services"][0]["label"] = "État civil\x00en ligne"
    return body


def chunks(size: int) -> Any:
    async def generate() -> Any:
        for _ in range(size // 65536 + 1):
            yield b" " * 65536

    return generate()


# (what, request, expected status, expected field, a fragment of the French message): one row per hostile
# input, spelled out in full on purpose, so that a failing row reads on its own.
HOSTILE: list[tuple[str, Callable[[Target], Any], int, str | None, str]] = [
    ("body of 2 MiB (Content-Length)", submit(raw=b"{" + b" " * 2 * MIB + b"}"), 413, "body", "trop volumineuse"),
    ("body of 2 MiB, chunked", lambda t: _chunked(t), 413, "body", "trop volumineuse"),
    ("201 actions", submit({"actions": [with_action()["actions"][0]] * 201}), 422, "actions", "liste trop longue"),
    ("title of 301 characters", submit(with_action(title="x" * 301)), 422, "actions.0.title", "texte trop long"),
    (
        "title with CR LF (header injection)",
        submit(with_action(title="Portail\r\nBcc: victime@evil.example")),
        422,
        "actions.0.title",
        "retours à la ligne",
    ),
    ("title with NUL", submit(with_action(title="Port\x00ail")), 422, "actions.0.title", "caractères de contrôle"),
    (
        "description with NUL",
        submit(with_action(description="a\x00b")),
        422,
        "actions.0.description",
        "caractères de contrôle",
    ),
    (
        "description of 10,001 characters",
        submit(with_action(description="d" * 10_001)),
        422,
        "actions.0.description",
        "texte trop long",
    ),
    (
        "narrative of 20,001 characters",
        submit({**dossier("a@b.example"), "narrative": "n" * 20_001}),
        422,
        "narrative",
        "texte trop long",
    ),
    (
        "51 services in one action",
        submit(with_action(services=["portail_open_data"] * 51)),
        422,
        "actions.0.services",
        "liste trop longue",
    ),
    (
        "service code with SQL",
        submit(with_action(services=["x'; DROP TABLE submissions; --"])),
        422,
        "actions.0.services.0",
        "format invalide",
    ),
    (
        "URL javascript:",
        submit(with_action(url="javascript:alert(document.cookie)")),
        422,
        "actions.0.url",
        "http et https",
    ),
    (
        "URL data:",
        submit(with_action(url="data:text/html,<script>alert(1)</script>")),
        422,
        "actions.0.url",
        "http et https",
    ),
    ("URL file:", submit(with_action(url="file:///etc/passwd")), 422, "actions.0.url", "http et https"),
    ("URL ftp:", submit(with_action(url="ftp://exemple.fr/f")), 422, "actions.0.url", "http et https"),
    (
        "URL with credentials",
        submit(with_action(url="https://admin:secret@exemple.fr/")),
        422,
        "actions.0.url",
        "identifiants interdits",
    ),
    (
        "URL of 2,100 characters",
        submit(with_action(url="https://exemple.fr/" + "a" * 2100)),
        422,
        "actions.0.url",
        "trop longue",
    ),
    (
        "started_on 1989-12-31",
        submit(with_action(started_on="1989-12-31")),
        422,
        "actions.0.started_on",
        "antérieure au 1er janvier 1990",
    ),
    (
        "started_on after the deadline + 1 year",
        submit(with_action(started_on="2099-01-01")),
        422,
        "actions.0.started_on",
        "Date de début invraisemblable",
    ),
    (
        "ended_on before started_on",
        submit(with_action(ended_on="2000-01-01")),
        422,
        "actions.0.ended_on",
        "précède la date de début",
    ),
    (
        "ended_on after the deadline + 10 years",
        submit(with_action(ended_on="2099-01-01")),
        422,
        "actions.0.ended_on",
        "Date de fin invraisemblable",
    ),
    ("started_on 'le 3 mars'", submit(with_action(started_on="le 3 mars")), 422, "actions.0.started_on", "AAAA-MM-JJ"),
    (
        "contact_email not an address",
        submit({**dossier("x"), "contact_email": "pas-une-adresse"}),
        422,
        "contact_email",
        "adresse électronique invalide",
    ),
    (
        "contact_email with CR LF Bcc",
        submit({**dossier("x"), "contact_email": "a@b.example\r\nBcc: c@d.example"}),
        422,
        "contact_email",
        "adresse électronique invalide",
    ),
    (
        "contact_email as a list",
        submit({**dossier("x"), "contact_email": "a@b.example, c@d.example"}),
        422,
        "contact_email",
        "adresse électronique invalide",
    ),
    (
        "contact_email with accents before @",
        submit({**dossier("x"), "contact_email": "élu@mairie.example"}),
        422,
        "contact_email",
        "accentués",
    ),
    ("unknown field", submit({**dossier("a@b.example"), "admin": True}), 422, "admin", "champ inconnu"),
    ("invalid JSON", submit(raw=b'{"actions": [}'), 422, "body", "JSON invalide"),
    ("JSON nested 100,000 deep", submit(raw=b"[" * 100_000 + b"]" * 100_000), 400, None, "illisible"),
    ("JSON array instead of object", submit(raw=b"[1, 2]"), 422, "body", "objet JSON"),
    (
        "Idempotency-Key of 201 characters",
        submit(dossier("a@b.example"), **{"Idempotency-Key": "k" * 201}),
        422,
        "idempotency-key",
        "texte trop long",
    ),
    (
        "edition 99999999999 in the path",
        operator("GET", "/v1/editions/99999999999/grille"),
        422,
        "edition",
        "inférieur ou égal à 2100",
    ),
    ("edition 'abc' in the path", operator("GET", "/v1/editions/abc/grille"), 422, "edition", "nombre entier"),
    (
        "collectivité code with NUL in the path",
        operator("POST", "/v1/collectivites/49007%00/token"),
        422,
        "code",
        "format invalide",
    ),
    (
        "collectivité code with SQL in the body",
        operator("POST", "/v1/collectivites", {"code": "1' OR '1'='1", "contact_email": "a@b.example"}),
        422,
        "code",
        "format invalide",
    ),
    (
        "grille label with NUL",
        operator("PUT", "/v1/editions/2000/grille", hostile_grille()),
        422,
        "services.0.label",
        "caractères de contrôle",
    ),
    (
        "jury comment with NUL",
        operator("POST", "/v1/submissions/{sid}/jury-decision", {"arobases": 3, "comment": "a\x00", "decided_by": "J"}),
        422,
        "comment",
        "caractères de contrôle",
    ),
    (
        "jury decided_by with LF",
        operator("POST", "/v1/submissions/{sid}/jury-decision", {"arobases": 3, "decided_by": "Jury\nBcc: x"}),
        422,
        "decided_by",
        "retours à la ligne",
    ),
    (
        "jury arobases 6",
        operator("POST", "/v1/submissions/{sid}/jury-decision", {"arobases": 6, "decided_by": "J"}),
        422,
        "arobases",
        "inférieur ou égal à 5",
    ),
    (
        "ceremony place with CR LF",
        operator(
            "POST", "/v1/editions/{edition}/palmares", {"ceremony": {"place": "Lille\r\nX: y", "date": "2031-02-01"}}
        ),
        422,
        "ceremony.place",
        "retours à la ligne",
    ),
    (
        "ceremony in 1900",
        operator("POST", "/v1/editions/{edition}/palmares", {"ceremony": {"place": "Lille", "date": "1900-02-01"}}),
        422,
        "ceremony.date",
        "antérieure au 1er janvier 1990",
    ),
    (
        "palmarès ?format=xml",
        operator("GET", "/v1/editions/{edition}/palmares?format=xml"),
        422,
        "format",
        "valeur inconnue",
    ),
    (
        "catalogue page ?service= with NUL (was a 500 from PostgreSQL)",
        operator("GET", "/actions?q=portail&service=a%00b"),
        422,
        "service",
        "caractères de contrôle",
    ),
    (
        "catalogue ?q= with a line separator",
        operator("GET", "/v1/actions?q=a%E2%80%A8b"),
        422,
        "q",
        "caractères de contrôle",
    ),
    (
        "catalogue cursor of 28 digits (overflowed OFFSET: a 500)",
        operator("GET", "/v1/actions?cursor=bzEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg"),
        422,
        "cursor",
        "Curseur invalide",
    ),
    (
        "label history of 50,001 entries",
        operator(
            "POST", "/v1/label-history", {"entries": [{"code": "49007", "edition": 2005, "arobases": 5}] * 50_001}
        ),
        413,
        "body",
        "trop volumineuse",
    ),
]


def _chunked(t: Target) -> Any:
    return t.client.post(
        f"/v1/editions/{t.edition}/submissions",
        content=chunks(2 * MIB),
        headers={**t.collectivite, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(("what", "send", "status", "field", "fragment"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_input_gets_a_clear_4xx(
    target: Target, what: str, send: Callable[[Target], Any], status: int, field: str | None, fragment: str
) -> None:
    r: httpx.Response = await send(target)
    answer = r.json()
    print(f"\n| {what} | {r.status_code} | {json.dumps(answer, ensure_ascii=False)[:200]} |")
    assert r.status_code == status, r.text
    assert set(answer) == {"error", "detail"}
    messages = [answer["error"]] + [d["message"] for d in answer["detail"]]
    assert any(fragment in m for m in messages), messages
    if field is not None:
        assert field in [d["field"] for d in answer["detail"]], answer


@pytest.mark.parametrize(
    ("what", "fields"),
    [
        (
            "HTML in every text field",
            {"title": "<script>alert(1)</script>", "description": '"><img src=x onerror=alert(1)>'},
        ),
        ("template syntax", {"title": "{{ 7*7 }}", "description": "{% for x in y %}{{ x }}{% endfor %}"}),
        ("SQL in text", {"title": "'; DROP TABLE submissions; --", "description": "1' OR '1'='1"}),
        (
            "Unicode: RTL override, emoji, combining",
            {"title": "Portail \u202etxt.exe 🚀 é", "description": "ligne 1\r\nligne 2\ttab"},
        ),
    ],
)
async def test_hostile_but_valid_text_is_accepted_and_kept_as_text(
    target: Target, what: str, fields: dict[str, str]
) -> None:
    r = await submit(with_action(**fields))(target)
    print(f"\n| {what} | {r.status_code} | {r.text[:120]} |")
    assert r.status_code == 202, r.text


async def test_digits_that_are_not_decimal_are_ignored_by_the_catalogue_page(target: Target) -> None:
    # "²".isdigit() is true, int("²") fails (it was a 500): the pages read their numbers with isdecimal().
    r = await target.client.get("/actions", params={"edition": "²", "arobases": "²", "comme": "49007"})
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers["content-type"]


async def test_the_rate_limit_answers_429_with_retry_after(stack: Stack, codes: Codes) -> None:
    """Default limit: 120 requests a minute per collectivité token (PALMARES_RATE_LIMIT)."""
    async with stack.api() as api:
        client = api.client
        token = {"Authorization": f"Bearer {await api.register(codes.take('ville'), 'pressee@ville.example')}"}
        other = {"Authorization": f"Bearer {await api.register(codes.take('ville'), 'calme@ville.example')}"}
        statuses = [(await client.get(f"/v1/submissions/{'0' * 32}", headers=token)).status_code for _ in range(120)]
        assert set(statuses) == {404}
        r = await client.get(f"/v1/submissions/{'0' * 32}", headers=token)
        print(
            f"\n| 121st request within a minute | {r.status_code} | Retry-After: {r.headers.get('retry-after')} {r.text} |"
        )
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.json()["error"].startswith("Trop de requêtes avec ce jeton")
        # Per token: another collectivité, and the operators, are not slowed down.
        assert (await client.get(f"/v1/submissions/{'0' * 32}", headers=other)).status_code == 404
        assert (await client.get(f"/v1/submissions/{'0' * 32}", headers=api.operator)).status_code == 404
