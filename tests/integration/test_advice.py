"""The services an action describes without declaring them, end to end: status view, dossier page, award email."""

from __future__ import annotations

import re

import pytest
from palmares_label.french import NBSP

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier, eventually, read_mails

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_a_service_described_but_not_declared_is_suggested_to_the_collectivite(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    body = grille_body(edition)
    for service in body["services"]:
        if service["code"] == "conseil_en_direct":
            service["terms"] = ["conseil municipal en direct", "retransmis en direct"]
    await api.publish_grille(body)
    code = codes.take("ville")
    contact = f"conseils-{edition}@collectivites.example"
    sent = dossier(contact)
    sent["actions"].append(
        {
            "title": "Séances publiques",
            "description": "Les séances sont filmées\u00a0: le conseil municipal en direct sur le site de la ville.",
            "services": ["etat_civil_en_ligne"],  # declared: another enjeu than the one described
            "started_on": "2016-03-01",
        }
    )
    sid = (await api.submit(await api.register(code, contact), edition, sent)).json()["submission_id"]
    view = await api.wait_status(sid, "notified")

    (suggestion,) = view["suggestions"]
    assert suggestion["action_title"] == "Séances publiques" and suggestion["service_code"] == "conseil_en_direct"
    assert suggestion["message"].startswith(
        f"Votre action «{NBSP}Séances publiques{NBSP}» semble relever du service «{NBSP}Conseil municipal en direct{NBSP}»"
    )
    assert view["mentions_missed"] is not None
    assert "conseil_en_direct" not in {s for a in sent["actions"] for s in a["services"]}, "counted only if declared"

    # The dossier page, opened by the receipt's link, tells it too.
    (receipt,) = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "receipt"]
    (link,) = re.findall(rf"{re.escape(stack.api_url)}/espace/dossiers/\S+", receipt.text())
    page = await api.client.get(link.removeprefix(stack.api_url))
    assert page.status_code == 200, page.text
    assert "Service à déclarer" in page.text and "Conseil municipal en direct" in page.text

    assert (await api.publish_palmares(edition)).status_code == 202

    async def award() -> object | None:
        found = [m for m in read_mails(stack.mail_dir, [contact]) if m.kind == "award"]
        return found[0] if found else None

    mail = await eventually(award, 60, "the award")
    text = mail.text()  # type: ignore[attr-defined]
    assert "Conseils pour votre prochain dossier" in text
    assert f"Votre dossier en décrit un sans le déclarer{NBSP}:" in text
    assert suggestion["message"] in text
