"""The observatoire on a real PostgreSQL: counts in SQL over the read model built at publication, JSON, CSV, pages."""

from __future__ import annotations

import csv
import io

import asyncpg
import pytest
from palmares_submission import observatoire_api, observatoire_store

from tests.integration.published_edition import Dossier, act, built, routes_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DOSSIERS = [
    Dossier("49007", [act("Open data", "", ("portail_open_data", "etat_civil_en_ligne"))], arobases=3, jury=4),
    Dossier("25056", [act("Cantine", "", ("paiement_cantine", "etat_civil_en_ligne"))], arobases=2),
    Dossier("01001", [act("Rien d’évalué", "", ("etat_civil_en_ligne",))], category="village"),  # participant only
    Dossier("97411", [act("Cantine", "", ("paiement_cantine",))], arobases=5),
]


async def test_counts_rates_and_inequality(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        report = await observatoire_store.report(conn, 2017, "territoire", 1)
    rows = {r.key: r for r in report.rows}
    assert (rows["metropole"].participants, rows["metropole"].labelled) == (3, 2)
    assert (rows["outre-mer"].participants, rows["outre-mer"].labelled, rows["outre-mer"].mean_arobases) == (1, 1, 5.0)
    assert report.total.mean_arobases == pytest.approx((4 + 2 + 5) / 3, abs=0.01)  # the jury's 4 for Angers
    # The denominators are the reference data's collectivités (millésime 2016 for the 2017 edition).
    assert report.total.collectivites > 36_000 and rows["outre-mer"].collectivites > 100
    assert report.total.labelled_inhabitants == 150_125 + 116_952 + 142_442
    services = {s.code: s for s in report.services}
    # État civil en ligne: declared in 49, 25 and 01 (rate 1 each), not in 974 (rate 0).
    assert services["etat_civil_en_ligne"].adopters == 3 and services["etat_civil_en_ligne"].departements == 3
    assert services["etat_civil_en_ligne"].gini == pytest.approx(0.25, abs=1e-4)  # rates 0, 1, 1, 1
    assert services["portail_open_data"].gini == pytest.approx(0.75, abs=1e-4)  # rates 0, 0, 0, 1
    assert report.largest_inequality is not None and report.largest_inequality.code == "portail_open_data"
    enjeux = {e.code: e for e in report.enjeux}
    assert enjeux["services_publics"].adopters == 4 and enjeux["solidarites"].adopters == 0


async def test_coverage_of_the_essential_services(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        report = await observatoire_store.report(conn, 2017, "departement", 1)
    coverage = report.coverage
    # The factory's grille designates État civil en ligne (every category) and Gestion des flux urbains
    # (villes and territoires: not the village of 01). Least available first.
    flux, etat_civil = coverage.essentiels
    assert (flux.code, flux.covered, flux.applicable, flux.rate) == ("gestion_flux_urbains", 0, 3, 0.0)
    assert (etat_civil.code, etat_civil.covered, etat_civil.applicable, etat_civil.rate) == (
        "etat_civil_en_ligne",
        3,
        4,
        0.75,
    )
    assert etat_civil.lowest[0].key == "974"
    rows = {r.key: r for r in coverage.rows}
    assert len(rows) == len(report.rows)  # every département, even without a dossier
    assert rows["01"].essentiels_rate == 1.0 and rows["49"].essentiels_rate == 0.5
    assert (rows["974"].essentiels_covered, rows["974"].essentiels_applicable) == (0, 2)
    assert rows["75"].participants == 0 and rows["75"].essentiels_rate is None
    assert (coverage.total.essentiels_covered, coverage.total.essentiels_applicable) == (3, 7)
    # Départements 0, ½, ½, 1: Gini 0.375
    assert (coverage.inequality.departements, coverage.inequality.gini) == (4, 0.375)
    assert [p.key for p in coverage.inequality.lowest] == ["974", "25", "49"]
    assert coverage.inequality.highest[0].key == "01"
    enjeux = {e.code: e for e in coverage.total.enjeux}
    assert (enjeux["services_publics"].covered, enjeux["services_publics"].rate) == (4, 1.0)


async def test_api_csv_and_pages_in_process(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with routes_client(pool, observatoire_api.router, observatoire_api.page_router) as client:
        view = (await client.get("/v1/editions/2017/observatoire", params={"by": "region"})).json()
        regions = {r["key"]: r for r in view["rows"]}
        assert regions["52"]["label"] == "Pays de la Loire" and regions["52"]["labelled"] == 1
        assert len(regions) >= 18  # every région, even without a dossier
        assert view["largest_inequality"]["code"] == "portail_open_data"
        exported = await client.get("/v1/editions/2017/observatoire", params={"by": "departement", "format": "csv"})
        table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
        maine = next(r for r in table if r["Code"] == "49")
        # The CSV carries the sums: the rates can be recomputed from it (French decimals).
        share = int(maine["Labellisées"]) * 100 / int(maine["Collectivités"])
        assert float(maine["Labellisées pour 100 collectivités"].replace(",", ".")) == pytest.approx(share, abs=1e-3)
        assert table[-1]["Code"] == "total"
        # … and the coverage of the essential services and enjeux.
        reunion = next(r for r in table if r["Code"] == "974")
        assert (reunion["Essentiels applicables (participantes × services)"], reunion["Essentiels proposés"]) == (
            "2",
            "0",
        )
        assert reunion["État civil en ligne : participantes concernées"] == "1"
        assert reunion["État civil en ligne : participantes qui le proposent"] == "0"
        assert reunion["Enjeu « Services publics » : participantes qui le couvrent"] == "1"
        assert table[-1]["Couverture des essentiels"] == "0,4286"  # 3 of 7
        assert view["coverage"]["essentiels"][0]["code"] == "gestion_flux_urbains"
        assert view["map_essentiels_rate"]["974"] == 0.0 and "75" not in view["map_essentiels_rate"]
        assert view["map_labelled_per_100"]["75"] == 0.0
        assert (await client.get("/v1/editions/2018/observatoire")).status_code == 404
        assert (await client.get("/v1/editions/2017/observatoire", params={"by": "canton"})).status_code == 422
        across = (await client.get("/v1/observatoire")).json()
        assert [e["edition"] for e in across["editions"]] == [2017]
        assert across["gini_by_service"]["portail_open_data"] == {"2017": 0.75}
        assert across["coverage_by_essentiel"]["etat_civil_en_ligne"] == {"2017": 0.75}
        assert across["editions"][0]["essentiels_gini"] == 0.375

        page = await client.get("/observatoire/2017", params={"by": "population"})
        assert page.status_code == 200
        assert "<svg" in page.text and "plus de 100\u00a0000\u00a0habitants" in page.text
        assert "Portail open data" in page.text and "<script" not in page.text
        assert 'data-essentiel="gestion_flux_urbains"' in page.text and "Couverture des enjeux" in page.text
        # The map: a tile per département of the reference data, each with its title; the table linked.
        assert page.text.count('<g class="tuile"') == 2 * 109  # two maps: labels, essentials
        assert "<title>Maine-et-Loire (49)\u00a0: 50\u202f%</title>" in page.text  # 1 of its 2 essentials
        assert 'href="/observatoire/2017?by=departement#repartition"' in page.text
        assert (await client.get("/observatoire/2018")).status_code == 404
        index = await client.get("/observatoire")
        assert 'href="/observatoire/2017"' in index.text


async def test_nothing_before_the_palmares(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS, published=False)
    async with pool.acquire() as conn:
        assert await observatoire_store.published(conn, 2017) is None
        assert await observatoire_store.editions_summary(conn) == []


async def test_reports_are_computed_once_per_state_of_the_rows(pool: asyncpg.Pool) -> None:
    await built(pool, 2017, DOSSIERS)
    async with pool.acquire() as conn:
        first = await observatoire_store.report(conn, 2017, "territoire", 1)
        assert await observatoire_store.report(conn, 2017, "territoire", 1) is first  # the same rows: the same report
        await conn.execute("UPDATE observatoire_dossiers SET arobases = 1 WHERE collectivite_code = '97411'")
        changed = await observatoire_store.report(conn, 2017, "territoire", 1)
    assert changed is not first
    assert {r.key: r.mean_arobases for r in changed.rows}["outre-mer"] == 1.0
