"""submission in process: its runtime (`create_runtime`, its table of subscriptions) on the test broker and a real
PostgreSQL; its commands run in the runtime's transactions and their events leave through the outbox.
"""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any
from uuid import uuid4

import pytest
from palmares_contracts import (
    GRILLES,
    MENTIONS,
    NOTIFICATIONS,
    PALMARES,
    SCORES,
    SUBMISSIONS,
    Category,
    Ceremony,
    GrilleBody,
    Mention,
    MentionsDetected,
    NotificationFailed,
    NotificationKind,
    NotificationSent,
    SubmissionScored,
    Topic,
    decode,
)
from palmares_eventkit.runtime import ServiceRuntime
from palmares_submission import app, palmares, palmares_exports, store
from palmares_submission.distinctions import EXCELLENCE
from palmares_submission.domain.errors import Conflict, Forbidden, Invalid, NotFound
from palmares_submission.schemas import SubmissionRequest
from palmares_submission.service import accounts, commands, jury
from palmares_submission.settings import SubmissionSettings
from palmares_submission.web import page_store

from tests.factories import grille_body
from tests.runtime.harness import InMemory, Raw
from tests.runtime.memory import Sent

VILLAGES = 3500


def submission_settings(database: str) -> SubmissionSettings:
    return SubmissionSettings(
        DATABASE_URL=database,
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9",
        OPERATOR_TOKEN="o" * 32,
        PALMARES_RETRY_BASE_DELAY_S=0.01,
        PALMARES_RETRY_MAX_DELAY_S=0.05,
        PALMARES_DB_POOL_MAX=4,
        PALMARES_TOPIC_PARTITIONS=1,
    )


@pytest.fixture
async def submission_service(database: str) -> Any:
    harness = InMemory(database)
    try:
        runtime = await harness.run(
            lambda _, cluster: app.create_runtime(submission_settings(database), cluster=cluster)
        )
        yield harness, runtime
    finally:
        await harness.stop()


def dossier(*services: str, started_on: str = "2016-03-01") -> SubmissionRequest:
    return SubmissionRequest.model_validate(
        {
            "actions": [{"title": "Portail de données ouvertes", "services": list(services), "started_on": started_on}],
            "narrative": "Notre ville publie ses données.",
        }
    )


def events(topic: Topic[Any], records: list[Sent]) -> list[Any]:
    return [decode(topic, r.value, {k: v.decode() for k, v in r.headers}) for r in records]


async def test_commands_publish_their_events_through_the_outbox_and_a_refusal_publishes_nothing(
    submission_service: tuple[InMemory, ServiceRuntime],
) -> None:
    harness, runtime = submission_service
    run = partial(commands.run, runtime.transaction)

    await run(lambda tx: commands.register(tx, "49007", "numerique@angers.example", village_max_population=VILLAGES))
    published = await run(lambda tx: commands.publish_grille(tx, 2017, GrilleBody.model_validate(grille_body())))
    assert published.grille.version == 1
    first = await run(
        lambda tx: commands.submit(
            tx, 2017, "49007", dossier("portail_open_data"), "k1", village_max_population=VILLAGES
        )
    )
    again = await run(
        lambda tx: commands.submit(
            tx, 2017, "49007", dossier("portail_open_data"), "k1", village_max_population=VILLAGES
        )
    )
    second = await run(
        lambda tx: commands.submit(tx, 2017, "49007", dossier("etat_civil_en_ligne"), village_max_population=VILLAGES)
    )
    assert (first.accepted.revision, again.replayed, again.accepted, second.accepted.revision) == (
        1,
        True,
        first.accepted,
        2,
    )
    assert second.accepted.submission_id == first.accepted.submission_id

    # The collectivité keeps its action out of the public catalogue; another one may not, nor a missing action.
    sid = first.accepted.submission_id
    await run(lambda tx: commands.choose_catalogue(tx, sid, 0, False, may_read=lambda code: code == "49007"))
    with pytest.raises(Forbidden):
        await run(lambda tx: commands.choose_catalogue(tx, sid, 0, True, may_read=lambda code: code == "72181"))
    with pytest.raises(NotFound, match="position 1"):
        await run(lambda tx: commands.choose_catalogue(tx, sid, 1, False, may_read=lambda code: True))
    withheld = await runtime.pool.fetchval(
        "SELECT catalogue_withheld FROM submission.submission_revisions WHERE submission_id = $1 AND revision = 2",
        sid,
    )
    assert withheld == [0]

    # Refused: rolled back, nothing written, nothing published.
    with pytest.raises(Invalid) as unknown:
        await run(
            lambda tx: commands.submit(tx, 2017, "49007", dossier("teleportation"), village_max_population=VILLAGES)
        )
    assert unknown.value.field == "actions.0.services.0"
    with pytest.raises(Conflict):
        await run(
            lambda tx: commands.submit(tx, 2016, "49007", dossier("portail_open_data"), village_max_population=VILLAGES)
        )

    revisions = events(SUBMISSIONS, await harness.sent_until(SUBMISSIONS.name, lambda found: len(found) >= 2))
    assert [(e.submission_id, e.revision, e.actions[0].services) for e in revisions] == [
        (first.accepted.submission_id, 1, ("portail_open_data",)),
        (first.accepted.submission_id, 2, ("etat_civil_en_ligne",)),
    ]
    assert [e.version for e in events(GRILLES, await harness.sent(GRILLES.name))] == [1]

    # An operator moves the collectivité to another category: a third revision, same content.
    moved = await run(
        lambda tx: commands.override_category(
            tx, 2017, "49007", Category.TERRITOIRE, "Décision du jury", "Opérateur", village_max_population=VILLAGES
        )
    )
    assert moved.revised is not None and moved.revised.revision == 3
    revisions = events(SUBMISSIONS, await harness.sent_until(SUBMISSIONS.name, lambda found: len(found) >= 3))
    assert revisions[2].collectivite.category == Category.TERRITOIRE
    assert revisions[2].actions == revisions[1].actions

    # The palmarès closes the campaign: its event goes out, later dossiers are refused.
    ceremony = Ceremony(place="Martigues", date=date(2017, 2, 2))
    await run(lambda tx: commands.publish_palmares(tx, 2017, ceremony))
    palmares_published = events(PALMARES, await harness.sent_until(PALMARES.name, bool))
    assert [(e.edition, e.ceremony) for e in palmares_published] == [(2017, ceremony)]
    async with runtime.pool.acquire() as conn:
        shown = await palmares.view(conn, 2017)
    assert shown is not None and shown.ceremony == {"place": "Martigues", "date": "2017-02-02"}
    async with runtime.pool.acquire() as conn:
        listed = await page_store.jury_editions(conn)
    assert [(e.edition, e.dossiers, e.palmares_published_at is not None) for e in listed] == [(2017, 1, True)]
    with pytest.raises(Conflict, match="close"):
        await run(
            lambda tx: commands.submit(tx, 2017, "49007", dossier("portail_open_data"), village_max_population=VILLAGES)
        )
    assert len(await harness.sent(SUBMISSIONS.name)) == 3


async def test_the_publication_names_the_distinctions_its_palmares_shows_read_by_chunks(
    submission_service: tuple[InMemory, ServiceRuntime],
) -> None:
    harness, runtime = submission_service
    run = partial(commands.run, runtime.transaction)
    await run(lambda tx: commands.publish_grille(tx, 2022, GrilleBody.model_validate(grille_body(2022))))
    # Five labels at 5 @ before this system: the sixth, at 2022, makes a « Territoire d'excellence numérique ».
    veterans, newcomer, below = ("49007", "72181", "35238"), "44109", "29019"
    history = [(code, year, 5) for code in (*veterans, below) for year in range(2017, 2022)]
    history += [(newcomer, year, 5) for year in range(2018, 2022)]
    await run(lambda tx: commands.import_label_history(tx, history))
    for code in (*veterans, newcomer, below):
        await run(
            lambda tx, code=code: commands.register(tx, code, f"{code}@ville.example", village_max_population=VILLAGES)
        )
        sid = (
            await run(
                lambda tx, code=code: commands.submit(
                    tx, 2022, code, dossier("portail_open_data"), village_max_population=VILLAGES
                )
            )
        ).accepted.submission_id
        arobases = 4 if code == below else 5
        await run(
            lambda tx, sid=sid, arobases=arobases: jury.decide(
                tx, sid, arobases=arobases, comment="", decided_by="Jury", revision=None, mention_codes=None
            )
        )

    await run(lambda tx: commands.publish_palmares(tx, 2022, None))
    (published,) = events(PALMARES, await harness.sent_until(PALMARES.name, bool))
    named = sorted((d.collectivite_code, d.label) for d in published.distinctions)
    assert named == [(code, EXCELLENCE) for code in sorted(veterans)]
    async with runtime.pool.acquire() as conn:
        shown = await palmares.view(conn, 2022)
        by_one = await palmares.edition_distinctions(conn, 2022, chunk=1)
    assert shown is not None
    assert sorted((e.collectivite_code, d) for e in shown.villes for d in e.distinctions) == named
    assert sorted((d.collectivite_code, d.label) for d in by_one) == named, "a chunk of one dossier loses none"
    # The page and the JSON are written as their entries are read, a chunk at a time: what the view shows.
    assert [e.arobases for e in shown.villes] == [5, 5, 5, 5, 4], "most arobases first"
    async with runtime.pool.acquire() as conn:
        for chunk in (1, 2, None):
            assert await palmares.page(conn, 2022, chunk=chunk) == palmares.to_html(shown).encode(), chunk
            written = await palmares.view_json(conn, 2022, chunk=chunk)
            assert written is not None and json.loads(written) == shown.model_dump(mode="json"), chunk
            for name, file in palmares_exports.FORMATS.items():
                assert await palmares.export(conn, 2022, file, chunk=chunk) == file.render(shown), (name, chunk)
        assert await palmares.page(conn, 2023) is None and await palmares.view_json(conn, 2023) is None
        assert await palmares.export(conn, 2023, palmares_exports.FORMATS["ods"]) is None


def _scored(common: dict[str, Any], revision: int, grille_version: int, score: float) -> Raw:
    """A `SubmissionScored` of the dossier `common` names, as a record."""
    return Raw.of(
        SubmissionScored(
            **common, revision=revision, grille_version=grille_version, score=score, arobases=2, category=Category.VILLE
        )
    )


async def test_the_status_view_keeps_the_newest_results_and_every_notification(
    submission_service: tuple[InMemory, ServiceRuntime],
) -> None:
    harness, runtime = submission_service
    sid = uuid4()
    common: dict[str, Any] = {"submission_id": sid, "edition": 2017, "collectivite_code": "49007"}
    scored = partial(_scored, common)

    # Out of order: revision 2 first, then revision 1 (older, ignored), then revision 2 under grille version 2.
    await harness.feed(SCORES, [scored(2, 1, 40.0)])
    await harness.feed(SCORES, [scored(1, 1, 10.0)])
    await harness.feed(SCORES, [scored(2, 2, 45.0)])
    mention = Mention(code="gouvernement_ouvert", label="Gouvernement ouvert")
    await harness.feed(
        MENTIONS, [Raw.of(MentionsDetected(**common, revision=2, grille_version=1, mentions=(mention,)))]
    )
    notification = uuid4()
    failed = NotificationFailed(
        **common, notification_id=notification, kind=NotificationKind.RECEIPT, to="a@angers.example",
        message_id="<m@palmares>", revision=2, reason="boîte pleine",
    )  # fmt: skip
    sent = NotificationSent(
        **common, notification_id=notification, kind=NotificationKind.RECEIPT, to="a@angers.example",
        message_id="<m@palmares>", revision=2,
    )  # fmt: skip
    await harness.feed(NOTIFICATIONS, [Raw.of(failed)])
    await harness.feed(NOTIFICATIONS, [Raw.of(sent), Raw.of(sent)])  # sent at last, then redelivered

    async with runtime.pool.acquire() as conn:
        results = await store.results(conn, sid)
        notes = await store.notifications(conn, sid)
    assert (results["score"].revision, results["score"].grille_version) == (2, 2)
    assert results["score"].decoded()["score"] == 45.0
    assert results["mentions"].revision == 2
    assert [(n.notification_id, n.status, n.reason, n.to) for n in notes] == [
        (notification, "sent", None, "a@angers.example")
    ]


async def test_the_status_view_written_once_per_batch_keeps_the_same_newest_results(
    submission_service: tuple[InMemory, ServiceRuntime],
) -> None:
    """The rows of a batch are written in one statement: several for one dossier reduce to the newest."""
    harness, runtime = submission_service
    sid = uuid4()
    common: dict[str, Any] = {"submission_id": sid, "edition": 2017, "collectivite_code": "49007"}
    scored = partial(_scored, common)

    await harness.feed(SCORES, [scored(2, 1, 40.0), scored(3, 1, 50.0), scored(1, 2, 10.0), scored(3, 1, 51.0)])
    notification = uuid4()
    fields: dict[str, Any] = {
        **common, "notification_id": notification, "kind": NotificationKind.AWARD, "to": "a@angers.example",
        "message_id": "<m@palmares>", "revision": 3,
    }  # fmt: skip
    await harness.feed(
        NOTIFICATIONS, [Raw.of(NotificationFailed(**fields, reason="boîte pleine")), Raw.of(NotificationSent(**fields))]
    )
    async with runtime.pool.acquire() as conn:
        results = await store.results(conn, sid)
        notes = await store.notifications(conn, sid)
    # Revision 3 wins over the later revision 1; of the two equal keys, the later event.
    assert (results["score"].revision, results["score"].grille_version) == (3, 1)
    assert results["score"].decoded()["score"] == 51.0
    assert [(n.status, n.reason) for n in notes] == [("sent", None)]


async def test_the_accounts_commands_invite_sign_in_once_sign_out_and_revoke(
    submission_service: tuple[InMemory, ServiceRuntime],
) -> None:
    _, runtime = submission_service
    run = partial(commands.run, runtime.transaction)

    invited = await run(lambda tx: accounts.invite_jury_member(tx, " Camille@Jury.example ", "Camille Martin"))
    assert invited.member.email == "camille@jury.example" and invited.token.startswith("jur_")
    async with runtime.pool.acquire() as conn:
        member = await accounts.jury_member_of_token(conn, invited.token)
    assert member is not None and member.name == "Camille Martin"
    with pytest.raises(NotFound) as nobody:
        await run(lambda tx: accounts.issue_sign_in_link(tx, "personne@nulle-part.example"))
    assert nobody.value.field == "email"

    link = await run(lambda tx: accounts.issue_sign_in_link(tx, "CAMILLE@jury.example"))
    async with runtime.pool.acquire() as conn:
        assert await accounts.sign_in_link_usable(conn, link.token)
        assert not await accounts.sign_in_link_usable(conn, "B" * 16 + "." + "A" * 43), "unknown selector"
        assert not await accounts.sign_in_link_usable(conn, "abc"), "malformed"
    first = await run(lambda tx: accounts.sign_in(tx, link.token, None))
    assert first.session is not None and first.session.account.home == "/espace/jury"
    assert (await run(lambda tx: accounts.sign_in(tx, link.token, None))).session is None, "used once only"
    async with runtime.pool.acquire() as conn:
        assert not await accounts.sign_in_link_usable(conn, link.token)
        signed_in = await accounts.session_account(conn, first.session.session_id)
    assert signed_in is not None and signed_in.jury is not None

    # A second link, used from the same browser: the first session is closed, a new one opened.
    again = await run(lambda tx: accounts.issue_sign_in_link(tx, "camille@jury.example"))
    second = await run(lambda tx: accounts.sign_in(tx, again.token, first.session.session_id))
    assert second.session is not None and second.session.session_id != first.session.session_id
    async with runtime.pool.acquire() as conn:
        assert await accounts.session_account(conn, first.session.session_id) is None

    await run(lambda tx: accounts.sign_out(tx, second.session.session_id))
    async with runtime.pool.acquire() as conn:
        assert await accounts.session_account(conn, second.session.session_id) is None

    # Revoked: the token opens nothing, a link sent before opens nothing (and is used up).
    late = await run(lambda tx: accounts.issue_sign_in_link(tx, "camille@jury.example"))
    await run(lambda tx: accounts.revoke_jury_member(tx, invited.member.member_id))
    assert (await run(lambda tx: accounts.sign_in(tx, late.token, None))).session is None
    async with runtime.pool.acquire() as conn:
        assert await accounts.jury_member_of_token(conn, invited.token) is None
        assert not await accounts.sign_in_link_usable(conn, late.token)
        listed = await accounts.jury_members(conn)
    assert [(m.email, m.revoked_at is not None) for m in listed] == [("camille@jury.example", True)]
    with pytest.raises(NotFound):
        await run(lambda tx: accounts.revoke_jury_member(tx, uuid4()))


async def test_the_palmares_leaves_before_its_catalogue_and_a_build_left_undone_is_done_by_the_background(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publication's transaction only asks for the catalogue: its event goes out first. The request then builds
    it (`build_catalogue`, once); a build no request did (the process stopped) is done by the background loop."""
    monkeypatch.setattr(app, "CATALOGUE_CHECK_S", 3600.0)  # the loop's pass at start only: the test runs the next
    harness = InMemory(database)
    try:
        runtime = await harness.run(
            lambda _, cluster: app.create_runtime(submission_settings(database), cluster=cluster)
        )
        run = partial(commands.run, runtime.transaction)
        await run(
            lambda tx: commands.register(tx, "49007", "numerique@angers.example", village_max_population=VILLAGES)
        )
        await run(lambda tx: commands.publish_grille(tx, 2017, GrilleBody.model_validate(grille_body())))
        done = await run(
            lambda tx: commands.submit(tx, 2017, "49007", dossier("portail_open_data"), village_max_population=VILLAGES)
        )
        common: dict[str, Any] = {
            "submission_id": done.accepted.submission_id,
            "edition": 2017,
            "collectivite_code": "49007",
            "revision": 1,
            "grille_version": 1,
        }
        scored = SubmissionScored(**common, score=40.0, arobases=2, category=Category.VILLE)
        await harness.feed(SCORES, [Raw.of(scored)])
        await harness.feed(MENTIONS, [Raw.of(MentionsDetected(**common, mentions=()))])

        async def rows() -> tuple[list[int], int, int]:
            async with runtime.pool.acquire() as conn:
                return (
                    [r["edition"] for r in await conn.fetch("SELECT edition FROM submission.catalogue_builds")],
                    await conn.fetchval("SELECT count(*) FROM submission.catalogue_actions WHERE edition = 2017"),
                    await conn.fetchval("SELECT count(*) FROM submission.observatoire_dossiers WHERE edition = 2017"),
                )

        await run(lambda tx: commands.publish_palmares(tx, 2017, None))
        assert [e.edition for e in events(PALMARES, await harness.sent_until(PALMARES.name, bool))] == [2017]
        assert await rows() == ([2017], 0, 0), "the event left with the catalogue asked for, not built"

        assert await app.build_requested(runtime) == [2017]  # as after a restart: nobody built it
        assert await rows() == ([], 1, 1)
        again = await run(lambda tx: commands.build_catalogue(tx, 2017))
        assert again.actions is None and await app.build_requested(runtime) == []
        assert await rows() == ([], 1, 1)
    finally:
        await harness.stop()
