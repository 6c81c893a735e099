"""The campaign's calendar through the API: the grille's `closes_at`, reopening a dossier, decisions « à revoir »."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_after_closing_dossiers_are_refused_until_an_operator_reopens_one(
    api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    first, late = codes.take("ville"), codes.take("ville")
    token = await api.register(first, f"calendrier-{first}@mairie.example")
    late_token = await api.register(late, f"calendrier-{late}@mairie.example")
    r = await api.submit(token, edition, dossier(f"calendrier-{first}@mairie.example"))
    assert r.status_code == 202, r.text
    sid = r.json()["submission_id"]

    # The jury decides on revision 1; then the campaign closes (18 h in Paris, yesterday or so).
    r = await api.client.post(
        f"/v1/submissions/{sid}/jury-decision", json={"arobases": 3, "decided_by": "Jury"}, headers=api.operator
    )
    assert r.status_code == 202, r.text
    closes_at = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    await api.publish_grille(grille_body(edition, closes_at=closes_at.isoformat()))

    for who, body in ((token, dossier(f"calendrier-{first}@mairie.example")), (late_token, dossier("x@y.example"))):
        r = await api.submit(who, edition, body)
        assert r.status_code == 409, r.text
        assert r.json()["error"].startswith(f"La campagne {edition} est close depuis le ")
        assert "(heure de Paris)" in r.json()["error"]

    # An operator reopens the first collectivité's dossier, for a week: it is revised.
    until = datetime.now(UTC) + timedelta(days=7)
    path = f"/v1/editions/{edition}/collectivites/{first}/reopening"
    r = await api.client.put(path, json={"until": until.isoformat()})
    assert r.status_code == 401
    r = await api.client.put(path, json={"until": until.isoformat()}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    r = await api.client.put(path, json={"until": until.isoformat()}, headers=api.operator)
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["until"]) == until
    assert datetime.fromisoformat(r.json()["closes_at"]) == closes_at
    r = await api.submit(token, edition, dossier(f"calendrier-{first}@mairie.example", narrative="Révisé."))
    assert r.status_code == 202, r.text
    assert r.json()["revision"] == 2
    r = await api.submit(late_token, edition, dossier("x@y.example"))
    assert r.status_code == 409  # the other one stays closed

    # The decision on revision 1 is « à revoir »: the palmarès waits for the jury.
    r = await api.publish_palmares(edition)
    assert r.status_code == 409, r.text
    assert "une décision du jury est «\u00a0à revoir\u00a0»" in r.json()["error"]
    r = await api.client.post(
        f"/v1/submissions/{sid}/jury-decision", json={"arobases": 4, "decided_by": "Jury"}, headers=api.operator
    )
    assert r.status_code == 202, r.text
    r = await api.publish_palmares(edition)
    assert r.status_code == 202, r.text

    # The palmarès closes every dossier, reopened or not.
    r = await api.submit(token, edition, dossier(f"calendrier-{first}@mairie.example"))
    assert r.status_code == 409
    r = await api.client.put(path, json={}, headers=api.operator)
    assert r.status_code == 409


async def test_reopening_an_unknown_collectivite_is_404(api: Api, edition: int) -> None:
    await api.publish_grille(grille_body(edition))
    r = await api.client.put(f"/v1/editions/{edition}/collectivites/99999/reopening", headers=api.operator)
    assert r.status_code == 404
