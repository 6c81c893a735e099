"""The catalogue of labelled actions on a real PostgreSQL: built at publication, French full-text search, filters."""

from __future__ import annotations

import csv
import io

import asyncpg
import pytest
from palmares_submission import catalogue, catalogue_api, store

from tests.factories import submission
from tests.integration.published_edition import Dossier, act, built, routes_client, seed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

OPEN_DATA = {
    "code": "gouvernement_ouvert",
    "label": "Gouvernement ouvert",
    "evidence": [{"action_title": "Portail de données ouvertes", "service_codes": ["portail_open_data"]}],
}

DOSSIERS = [
    # Angers (ville > 100 000): the jury's arobases win over the pré-notation.
    Dossier(
        "49007",
        [
            act(
                "Médiathèques numériques",
                "Prêt de liseuses et ateliers d’initiation dans les médiathèques du quartier.",
                ("espace_public_numerique",),
                url="https://angers.example/mediatheques",
            ),
            act("Portail de données ouvertes", "Les budgets publiés chaque année.", ("portail_open_data",)),
            act("Conseil municipal retransmis", "Vidéo des séances.", ("conseil_en_direct",)),
        ],
        arobases=3,
        jury=4,
        mentions=[OPEN_DATA],
        withheld=(2,),
    ),
    # Besançon (ville > 100 000)
    Dossier(
        "25056",
        [act("Une médiathèque ouverte le dimanche", "Horaires élargis.", ("espace_public_numerique",))],
        arobases=2,
        mentions=[],
    ),
    # L'Abergement-Clémenciat (village of 767): not evaluated, so not labelled: none of its actions is public.
    Dossier("01001", [act("Mediatheque du village", "Un point lecture.")], category="village"),
    # Saint-Denis de La Réunion
    Dossier("97411", [act("Paiement de la cantine en ligne", "", ("paiement_cantine",))], arobases=5, mentions=[]),
]


def _titles(page: catalogue.Page) -> list[str]:
    return [h.row["title"] for h in page.hits]


async def test_french_search_finds_accents_plurals_and_word_forms_ranked_and_highlighted(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        # No accent, singular: finds « Médiathèques numériques » and « médiathèque ouverte »; the village's action
        # (not labelled) and the withheld action never show.
        page = await catalogue.search(conn, catalogue.Filters(q="mediatheque"), limit=10, offset=0)
        assert sorted(_titles(page)) == ["Médiathèques numériques", "Une médiathèque ouverte le dimanche"]
        assert page.total == 2
        assert page.hits[0].title_html == "<mark>Médiathèques</mark> numériques"  # matched in title and description
        # Another form of the verb: « publie » finds « publiés », in the description (highlighted in the excerpt).
        page = await catalogue.search(conn, catalogue.Filters(q="budget publie"), limit=10, offset=0)
        assert _titles(page) == ["Portail de données ouvertes"]
        assert "<mark>budgets</mark> <mark>publiés</mark> chaque année" in page.hits[0].excerpt_html
        # Withheld by its collectivité: never found.
        page = await catalogue.search(conn, catalogue.Filters(q="conseil municipal"), limit=10, offset=0)
        assert page.total == 0
        # The grille's labels are searchable too (the service « Paiement en ligne de la cantine »).
        page = await catalogue.search(conn, catalogue.Filters(q="cantines"), limit=10, offset=0)
        assert [h.row["collectivite_code"] for h in page.hits] == ["97411"]


async def test_rows_carry_the_collectivite_and_never_a_contact(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        page = await catalogue.search(conn, catalogue.Filters(), limit=10, offset=0)
    assert page.total == 4  # Angers 2 (one withheld), Besançon 1, Saint-Denis 1; the village is not labelled
    by_title = {h.row["title"]: h.row for h in page.hits}
    angers = by_title["Portail de données ouvertes"]
    assert (angers["name"], angers["departement"], angers["region"], angers["arobases"]) == ("Angers", "49", "52", 4)
    assert angers["population_band"] == "100000-" and angers["kind"] == "commune"
    assert angers["mentions"] == ["gouvernement_ouvert"] and angers["enjeux"] == ["democratie_locale"]
    assert by_title["Médiathèques numériques"]["mentions"] == []
    assert by_title["Paiement de la cantine en ligne"]["departement"] == "974"
    assert _titles(page)[0] == "Paiement de la cantine en ligne"  # most arobases first without a query
    for row in page.hits:
        assert not any("@" in str(v) for k, v in dict(row.row).items() if k != "search")


async def test_filters_and_collectivites_like_mine(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:

        async def codes(**filters: object) -> list[str]:
            page = await catalogue.search(conn, catalogue.Filters(**filters), limit=10, offset=0)  # type: ignore[arg-type]
            return sorted({h.row["collectivite_code"] for h in page.hits})

        assert await codes(enjeu="solidarites") == ["25056", "49007"]
        assert await codes(service="paiement_cantine") == ["97411"]
        assert await codes(mention="gouvernement_ouvert") == ["49007"]
        assert await codes(departement="974") == ["97411"]
        assert await codes(region="27") == ["25056"]
        assert await codes(arobases=4) == ["49007", "97411"]
        assert await codes(edition=2018) == []
        assert await codes(population="100000-") == ["25056", "49007", "97411"]
        assert await codes(q="mediatheque", arobases=3) == ["49007"]
        # « Comme la mienne »: Besançon, a ville of more than 100 000, sees Angers and Saint-Denis, not itself.
        like = catalogue.like("25056", 2017)
        assert like is not None and (like.category, like.population) == ("ville", "100000-")
        page = await catalogue.search(conn, like, limit=10, offset=0)
        assert sorted({h.row["collectivite_code"] for h in page.hits}) == ["49007", "97411"]


async def test_pages_and_cursor(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        first = await catalogue.search(conn, catalogue.Filters(), limit=3, offset=0)
        assert first.next_offset == 3
        second = await catalogue.search(conn, catalogue.Filters(), limit=3, offset=first.next_offset)
        assert second.next_offset is None and len(second.hits) == 1
    assert set(_titles(first)).isdisjoint(_titles(second))
    assert catalogue.decode_cursor(catalogue.encode_cursor(40)) == 40
    assert catalogue.decode_cursor("n'importe quoi") is None


async def test_nothing_public_before_the_palmares(pool: asyncpg.Pool) -> None:
    # A rebuild before publication (the read model exists, the edition is not public).
    await built(pool, 2017, DOSSIERS, published=False)
    async with pool.acquire() as conn:
        page = await catalogue.search(conn, catalogue.Filters(q="mediatheque"), limit=10, offset=0)
    assert page.total == 0


async def test_api_csv_and_page_in_process(pool: asyncpg.Pool) -> None:
    """`GET /v1/actions` (JSON and CSV) and the page `/actions` over the real schema (the routes read its pool only)."""
    await built(pool, 2017, DOSSIERS)
    async with routes_client(pool, catalogue_api.router, catalogue_api.page_router) as client:
        answer = (await client.get("/v1/actions", params={"q": "médiathèques", "limit": 1})).json()
        assert answer["total"] == 2 and len(answer["items"]) == 1 and answer["next_cursor"]
        item = answer["items"][0]
        assert item["title_highlighted"] == "<mark>Médiathèques</mark> numériques"
        assert item["departement_name"] == "Maine-et-Loire" and item["region_name"] == "Pays de la Loire"
        assert item["enjeux"] == [{"code": "solidarites", "label": "Solidarités"}]
        assert "contact" not in str(item) and "token" not in str(item)
        rest = (await client.get("/v1/actions", params={"q": "médiathèques", "cursor": answer["next_cursor"]})).json()
        assert [i["collectivite_code"] for i in rest["items"]] == ["25056"] and rest["next_cursor"] is None
        like = (await client.get("/v1/actions", params={"comme": "25056"})).json()
        assert {i["collectivite_code"] for i in like["items"]} == {"49007", "97411"}
        bad = await client.get("/v1/actions", params={"population": "beaucoup", "cursor": "x"})
        assert bad.status_code == 422
        assert (await client.get("/v1/actions", params={"comme": "99999"})).status_code == 422

        exported = await client.get("/v1/actions", params={"format": "csv", "enjeu": "solidarites"})
        assert exported.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
        assert sorted(r["Collectivité"] for r in rows) == ["Angers", "Besançon"]
        assert {r["Tranche de population"] for r in rows} == {"plus de 100\u00a0000\u00a0habitants"}

        page = await client.get("/actions", params={"q": "mediatheque", "arobases": "3"})
        assert page.status_code == 200
        assert "<mark>Médiathèques</mark> numériques" in page.text and "Besançon" not in page.text
        assert 'href="/palmares/2017"' in page.text and "Une action" in page.text
        unknown = await client.get("/actions", params={"comme": "00000"})
        assert "Aucune collectivité n’a le code" in unknown.text


async def test_a_revision_without_a_choice_keeps_the_previous_ones(pool: asyncpg.Pool) -> None:
    """An operator's category decision makes a revision: the actions withheld stay withheld."""
    async with pool.acquire() as conn, conn.transaction():
        ids = await seed(conn, 2017, DOSSIERS[:1], published=False)
        sid = ids["49007"]
        schema = await conn.fetchval("SELECT current_schema()")
        for revision, withheld_now in ((2, [0]), (3, None)):
            event = submission(submission_id=sid, revision=revision, edition=2017)
            await store.save_revision(conn, event, schema=schema, idempotency=None, catalogue_withheld=withheld_now)
        withheld = await conn.fetch(
            "SELECT revision, catalogue_withheld FROM submission_revisions WHERE submission_id = $1 ORDER BY 1", sid
        )
    assert [(r["revision"], r["catalogue_withheld"]) for r in withheld] == [(1, [2]), (2, [0]), (3, [0])]


async def test_a_decision_after_the_palmares_refreshes_the_dossiers_rows(pool: asyncpg.Pool) -> None:
    ids = await built(pool, 2017, DOSSIERS)
    sid = ids["25056"]
    async with pool.acquire() as conn, conn.transaction():
        # The collectivité put its action out after publication; then the jury raises Besançon to 5 @.
        await conn.execute("UPDATE catalogue_actions SET published = false WHERE submission_id = $1", sid)
        await conn.execute(
            "INSERT INTO jury_decisions (submission_id, arobases, comment, decided_by, decided_at) "
            "VALUES ($1, 5, '', 'jury', now())",
            sid,
        )
        await catalogue.refresh(conn, 2017, sid)
        rows = await conn.fetch("SELECT arobases, published FROM catalogue_actions WHERE submission_id = $1", sid)
        observed = await conn.fetchval(
            "SELECT arobases FROM observatoire_dossiers WHERE edition = 2017 AND collectivite_code = '25056'"
        )
        others = await conn.fetchval("SELECT count(*) FROM catalogue_actions WHERE submission_id <> $1", sid)
    assert [(r["arobases"], r["published"]) for r in rows] == [(5, False)] and observed == 5
    assert others == 4  # the other dossiers' rows untouched


async def test_a_build_by_chunks_of_one_dossier_gives_the_rows_of_one_chunk(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edition's build reads its dossiers by chunks (memory bounded by a chunk): the same rows whatever the chunk."""
    tables = {
        "catalogue_actions": "SELECT * FROM catalogue_actions WHERE edition = $1 ORDER BY submission_id, position",
        "observatoire_dossiers": "SELECT * FROM observatoire_dossiers WHERE edition = $1 ORDER BY collectivite_code",
    }
    await built(pool, 2017, DOSSIERS)
    whole = {name: [dict(r) for r in await pool.fetch(query, 2017)] for name, query in tables.items()}
    monkeypatch.setattr(catalogue, "BUILD_CHUNK", 1)
    async with pool.acquire() as conn, conn.transaction():
        assert await catalogue.build(conn, 2017) == len(whole["catalogue_actions"])
    by_one = {name: [dict(r) for r in await pool.fetch(query, 2017)] for name, query in tables.items()}
    assert by_one == whole
    assert len(whole["observatoire_dossiers"]) == len(DOSSIERS) and len(whole["catalogue_actions"]) == 5
