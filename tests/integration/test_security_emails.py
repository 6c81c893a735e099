"""Hostile text from a dossier, the jury and the ceremony, through the real pipeline to the SMTP server.

The unit tests (tests/unit/security/test_emails.py) put hostile values in every
field an email shows; this one proves the path end to end: what the API
accepts (HTML, template syntax — not line breaks) arrives escaped in the
award's HTML, verbatim in its text, and the headers are the ones we write.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, read_mails

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TITLE = "<script>alert('titre')</script> Portail {{ 7*7 }}"
COMMENT = '"><img src=x onerror=alert(1)> Bravo'
PLACE = "<b>Lille</b> & co"


async def test_a_hostile_dossier_arrives_escaped_in_the_award(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    contact = f"hostile-{edition}@collectivites.example"
    body = dossier(contact, narrative="<iframe src=javascript:alert(1)> Nos données ouvertes sur data.gouv.fr.")
    body["actions"][0]["title"] = TITLE
    token = await api.register(codes.take("ville"), contact)
    r = await api.submit(token, edition, body)
    assert r.status_code == 202, r.text
    sid = r.json()["submission_id"]
    await api.wait_status(sid, "notified")
    r = await api.client.post(
        f"/v1/submissions/{sid}/jury-decision",
        json={"arobases": 4, "comment": COMMENT, "decided_by": "Jury <i>test</i>"},
        headers=api.operator,
    )
    assert r.status_code == 202, r.text
    r = await api.client.post(
        f"/v1/editions/{edition}/palmares",
        json={"ceremony": {"place": PLACE, "date": f"{edition}-02-01"}},
        headers=api.operator,
    )
    assert r.status_code == 202, r.text

    async def award() -> object:
        found = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "award"]
        return found[0] if found else None

    mail = await eventually(award, 60, "the award")
    html, text = mail.html(), mail.text()  # type: ignore[attr-defined]
    raw = mail.path.read_bytes()  # type: ignore[attr-defined]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert [line.split(b":")[0] for line in head.split(b"\r\n") if not line[:1].isspace()].count(b"To") == 1
    assert mail.to == contact  # type: ignore[attr-defined]
    # HTML: everything from the dossier, the jury and the ceremony is escaped; no tag came from data.
    assert "<script" not in html and "<img src=x" not in html and "<b>Lille" not in html and "<iframe" not in html
    # The letters write typographic apostrophes, in a dossier's titles too.
    assert "&lt;script&gt;alert(’titre’)&lt;/script&gt; Portail {{ 7*7 }}" in html  # the mention's evidence
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; Bravo" in html  # the jury's comment
    assert "&lt;b&gt;Lille&lt;/b&gt; &amp; co" in html  # the ceremony
    assert not re.search(r"<[^>]+\son\w+\s*=", html)
    for url in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert url.startswith(("http://", "https://", "cid:")), url
    # Text: the same words, verbatim (text/plain is not markup).
    assert TITLE.replace("'", "’") in text and COMMENT in text and PLACE in text
