"""A dossier's status view built from its rows, without a server: the jury's decision and mentions, the status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from palmares_submission import store
from palmares_submission.service.status_view import build_status_view

AT = datetime(2017, 1, 10, 9, 30, tzinfo=UTC)
DETECTED = {"code": "teletravail", "label": "Télétravail", "evidence": []}
GRANTED = {"code": "gouvernement_ouvert", "label": "Gouvernement ouvert", "evidence": []}


def dossier(*, published: bool, revision: int = 2) -> store.SubmissionRow:
    return store.SubmissionRow(uuid4(), 2017, "49007", revision, AT, AT if published else None)


def results() -> dict[str, store.ResultRow]:
    return {
        "score": store.ResultRow("score", 2, 1, json.dumps({"score": 42.0, "arobases": 3})),
        "mentions": store.ResultRow("mentions", 2, 1, json.dumps({"mentions": [DETECTED]})),
    }


JURY = store.JuryRow(4, "Bravo", "Jury", AT, 1, json.dumps([GRANTED]))


def receipt(revision: int) -> store.NotificationRow:
    return store.NotificationRow(
        uuid4(), None, revision, 2017, "49007", "receipt", "sent", "a@x.example", "<m>", None, AT
    )


def test_the_collectivite_reads_the_jury_and_its_mentions_once_the_palmares_is_published() -> None:
    before = build_status_view(dossier(published=False), results(), JURY, [])
    assert before.jury is None and before.mentions == [DETECTED]
    staff = build_status_view(dossier(published=False), results(), JURY, [], staff=True)
    assert staff.jury is not None and staff.jury.arobases == 4
    assert staff.mentions == [DETECTED]  # the jury's mentions count from the palmarès on
    after = build_status_view(dossier(published=True), results(), JURY, [])
    assert after.jury is not None and after.mentions == [GRANTED]
    assert after.jury.to_review_again  # decided on revision 1, the dossier is at revision 2


def test_a_dossier_is_notified_once_the_receipt_of_its_current_revision_is_sent() -> None:
    assert build_status_view(dossier(published=False), {}, None, []).status == "received"
    assert build_status_view(dossier(published=False), results(), None, [receipt(1)]).status == "evaluated"
    view = build_status_view(dossier(published=False), results(), None, [receipt(2)])
    assert (view.status, view.score, view.arobases, view.grille_version) == ("notified", 42.0, 3, 1)
    assert [n.to for n in view.notifications] == ["a@x.example"]
