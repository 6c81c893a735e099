"""The benchmark's pure helpers: percentiles, rates, sampling, dossiers, process accounting, report schema.

Nothing here times anything: the benchmark itself is `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from palmares_submission.refdata import CollectiviteRef
from palmares_submission.schemas import SubmissionRequest

from bench import stats
from bench.bench import (
    Config,
    Run,
    base_name,
    campaign_entries,
    finish_report,
    mail_kind,
    mail_time,
    parse_args,
    replica_specs,
)
from bench.counters import Snapshot as CounterSnapshot
from bench.counters import log_bytes, per_dossier, statements_in
from bench.dossiers import (
    Member,
    action_range,
    allocate,
    campaign_members,
    make_dossier,
    member_of,
    services_by_category,
    slug,
    spread_pick,
)
from bench.lean_http import HttpError, read_response
from bench.procstat import (
    Component,
    Sampler,
    Snapshot,
    cpu_between,
    cpu_seconds,
    descendants,
    loadavg,
    machine_busy_seconds,
    pss_kb,
    rss_kb,
)

GRILLE = json.loads((Path(__file__).resolve().parents[3] / "deploy" / "grilles" / "grille-2018.json").read_text())


def ref(code: str, kind: str, population: int) -> CollectiviteRef:
    return CollectiviteRef(
        code=code,
        kind=kind,  # type: ignore[arg-type]
        name=f"Saint-Étienne {code}",
        departement="42",
        region="84",
        population=population,
        epci_type="CC" if kind == "epci" else "",
    )


def reference() -> list[CollectiviteRef]:
    """870 villages, 100 villes, 30 territoires with spread populations."""
    rng = random.Random(1)
    refs = [ref(f"{10000 + i}", "commune", rng.randint(50, 3499)) for i in range(870)]
    refs += [ref(f"{20000 + i}", "commune", rng.randint(3500, 900_000)) for i in range(100)]
    refs += [ref(f"{200000000 + i}", "epci", rng.randint(4000, 2_000_000)) for i in range(30)]
    return refs


# --- percentiles and rates -----------------------------------------------------------------


def test_percentile_interpolates_like_numpy() -> None:
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert stats.percentile(values, 0) == 15
    assert stats.percentile(values, 50) == 35
    assert stats.percentile(values, 100) == 50
    assert stats.percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile(values, 40)
    assert stats.percentile([7.0], 99) == 7
    assert stats.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 101)


def test_summary_in_milliseconds() -> None:
    summary = stats.summary_ms([0.010, 0.020, 0.030, 0.040, 1.0])
    assert summary["p50"] == 30.0
    assert summary["max"] == 1000.0
    assert summary["count"] == 5
    assert stats.summary_ms([]) == {"count": 0}


def test_rates() -> None:
    assert stats.rate(100, 4.0) == 25.0
    assert stats.rate(100, 0.0) is None
    assert stats.per_second([10.1, 10.2, 11.5, 13.0], origin=10.0) == [2.0, 1.0, 0.0, 1.0]
    # 100 events at 50/s after a slow start: the ramp-up is left out.
    times = [0.0, 5.0] + [10 + i / 50 for i in range(98)]
    assert stats.sustained_rate(times) == pytest.approx(50.0, rel=0.05)
    assert stats.sustained_rate([1.0, 2.0]) is None


# --- sampling of the campaign ----------------------------------------------------------------


def test_allocate_sums_to_n_and_keeps_the_mix() -> None:
    counts = {"village": 31673, "ville": 3290, "territoire": 1255}
    parts = allocate(counts, 2000)
    assert sum(parts.values()) == 2000
    assert parts == {"village": 1749, "ville": 182, "territoire": 69}
    assert allocate(counts, 3) == {"village": 1, "ville": 1, "territoire": 1}
    assert allocate(counts, 2) == {"village": 1, "ville": 1, "territoire": 0}
    assert allocate(counts, 0) == {"village": 0, "ville": 0, "territoire": 0}
    assert allocate(counts, 10**6) == counts


def test_spread_pick_keeps_the_shape_of_a_sorted_list() -> None:
    assert spread_pick(list(range(100)), 4) == [12, 37, 62, 87]
    assert spread_pick([1, 2], 5) == [1, 2]
    assert spread_pick([1, 2], 0) == []


def test_sample_is_deterministic_and_keeps_the_category_mix() -> None:
    refs = reference()
    first = campaign_members(refs, 100, seed=7)
    assert first == campaign_members(list(reversed(refs)), 100, seed=7)
    assert [m.code for m in first] != [m.code for m in campaign_members(refs, 100, seed=8)]  # shuffled by seed
    assert Counter(m.category for m in first) == {"village": 87, "ville": 10, "territoire": 3}
    assert len({m.code for m in first}) == 100
    # The spread of sizes is kept: the sample's median village is near the full median.
    villages = sorted(m.population for m in campaign_members(refs, None) if m.category == "village")
    sampled = sorted(m.population for m in first if m.category == "village")
    assert abs(sampled[len(sampled) // 2] - villages[len(villages) // 2]) < 300
    assert len(campaign_members(refs, None)) == len(refs)


# --- dossiers ------------------------------------------------------------------------------------


def test_dossiers_are_valid_requests_of_realistic_size() -> None:
    catalog = services_by_category(GRILLE)
    applicable = {category: {s.code for s in services} for category, services in catalog.items()}
    rng = random.Random(3)
    for member in campaign_members(reference(), 300, seed=1):
        body = make_dossier(rng, member, catalog)
        request = SubmissionRequest.model_validate_json(json.dumps(body))  # what the API accepts
        low, high = action_range(member)
        assert low <= len(request.actions) <= high
        for action in request.actions:
            assert 1 <= len(action.services) <= 3
            assert set(action.services) <= applicable[member.category]
            assert action.started_on <= date(2018, 11, 30)  # the 2018 grille's deadline + 1 year
            assert 40 < len(action.description) < 1200
    assert len(json.dumps(body).encode()) < 20_000


def test_action_ranges_by_size() -> None:
    assert action_range(member_of(ref("01001", "commune", 300))) == (1, 2)
    assert action_range(member_of(ref("01002", "commune", 3000))) == (2, 4)
    assert action_range(member_of(ref("01003", "commune", 50_000))) == (4, 10)
    assert action_range(member_of(ref("69123", "commune", 500_000))) == (6, 20)
    assert action_range(member_of(ref("200046977", "epci", 1_400_000))) == (10, 20)


def test_slug() -> None:
    assert slug("L'Abergement-Clémenciat") == "l-abergement-clemenciat"
    assert slug("CC Cœur de Sologne") == "cc-cur-de-sologne"
    assert slug("???") == "collectivite"


# --- mails ------------------------------------------------------------------------------------------


def test_mail_arrival_time_and_kind(tmp_path: Path) -> None:
    assert mail_time("20261125T172301.250000Z-0123abcd.eml") == pytest.approx(1795627381.25)
    path = tmp_path / "m.eml"
    path.write_bytes(b"From: a@b.example\r\nX-Palmares-Notification: award; id=42\r\n\r\nbody\r\n")
    assert mail_kind(path) == "award"
    path.write_bytes(b"From: a@b.example\r\n\r\nX-Palmares-Notification: award\r\n")
    assert mail_kind(path) == "unknown"


# --- process accounting ------------------------------------------------------------------------------


def test_process_readings_of_this_process_and_of_a_gone_one() -> None:
    sum(range(200_000))  # some CPU time of our own
    assert cpu_seconds(os.getpid()) > 0
    # A reaped child's CPU counts only with `with_reaped`. The plain reading comes first: our own CPU
    # time only grows, so the later reading with the child's must be at least the earlier one plus it.
    child = subprocess.run([sys.executable, "-c", "sum(range(5_000_000))"], check=True)
    assert child.returncode == 0
    alone = cpu_seconds(os.getpid())
    with_child = cpu_seconds(os.getpid(), with_reaped=True)
    assert with_child - alone >= 0.02  # the child's own CPU, reaped by subprocess.run
    assert rss_kb(os.getpid()) > 1024
    assert pss_kb(os.getpid()) > 0
    assert descendants(os.getpid())[0] == os.getpid()
    gone = 2**22 + 12345  # above Linux's pid_max: no such process
    assert (cpu_seconds(gone), rss_kb(gone), pss_kb(gone), descendants(gone)) == (0.0, 0, 0, [])
    assert machine_busy_seconds() > 0
    assert len(loadavg()) == 3


def test_a_process_tree_is_accounted_with_its_children() -> None:
    # The child burns some CPU, says so, then sleeps: its CPU time stays put while we read it.
    script = "import time; sum(range(3_000_000)); print('done', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "done\n"
        assert child.pid in descendants(os.getpid())
        child_s = cpu_seconds(child.pid)
        assert child_s > 0
        alone = Component("alone", os.getpid()).cpu_s()
        tree = Component("tree", os.getpid(), tree=True).cpu_s()
        assert tree >= alone + child_s
    finally:
        child.kill()
        child.wait()


def test_cpu_between_attributes_the_rest_to_other_programs() -> None:
    start = Snapshot(at=100.0, cpu_s={"scoring": 1.0, "client": 0.5}, machine_busy_s=1000.0)
    end = Snapshot(at=110.0, cpu_s={"scoring": 4.0, "client": 1.5}, machine_busy_s=1015.0)
    used = cpu_between(start, end)
    assert used == {"scoring": 3.0, "client": 1.0, "machine_busy": 15.0, "others": 11.0, "wall": 10.0}


# --- the report ---------------------------------------------------------------------------------------


def fake_sampler() -> Sampler:
    names = ["submission", "scoring", "mentions", "notify", "kafka", "postgres", "smtp"]
    sampler = Sampler([Component(name, pid=0) for name in names])
    for i, phase in enumerate(("start", "registration", "bulk", "latency", "regrade", "palmares", "baseline")):
        cpu = {name: float(i * (j + 1)) for j, name in enumerate([*names, "client"])}
        sampler.marks[phase] = Snapshot(at=100.0 + i, cpu_s=cpu, machine_busy_s=100.0 * i)
    return sampler


def test_report_has_every_required_key_and_the_targets() -> None:
    run = Run()
    run.figures.update(
        intake_per_s=50.0,
        pipeline_per_s=40.0,
        drain_after_last_submission_s=130.0,
        latency_ms={"p50": 100.0, "p95": 300.0, "p99": 900.0},
        regrade_s=30.0,
        regrade_per_s=66.7,
        emails_per_s=310.0,
        baseline_per_s=2000.0,
    )
    cfg = Config(None, 32, 100.0, 60.0, None, 2018, False, Path("/nonexistent"), None)
    meta = {"machine": {"cores": 2, "loadavg_start": [1.0, 1.0, 1.0], "loadavg_end": [2.0, 2.0, 2.0]}}
    report = finish_report(run, fake_sampler(), cfg, 2000, meta)
    assert stats.missing_keys(report) == []
    assert report["ratio_pipeline_to_baseline"] == 0.02
    assert report["ratios_to_baseline"]["emails"] == 0.155
    # Campaign phases only (registration, bulk, regrade, palmares): scoring used 2 s in each, 8 s in all.
    assert report["services"]["scoring"]["cpu_s"] == 8.0
    assert report["services"]["scoring"]["cpu_s_per_1000"] == 4.0
    # Bulk phase: process j used j + 1 CPU s, 1 + … + 7 = 28 s for the stack: 14 ms per dossier.
    assert report["cpu_ms_per_dossier"]["bulk"]["stack"] == 14.0
    assert report["cpu_ms_per_dossier"]["bulk"]["notify"] == 2.0
    results = {t["figure"]: t["result"] for t in report["targets"]}
    assert results == {
        "cpu_ms_per_dossier.bulk.stack": "MISS",  # 14 ms > 8 ms, and no other commit to compare with
        "pipeline_per_s": "MISS",
        "drain_after_last_submission_s": "MISS",
        "regrade_s": "MISS",  # 30 s meets the figure, but 66.7/s is 0.033 of the relay: the ratio decides
        "emails_per_s": "PASS",  # 310/s misses 400/s, but 0.155 of the relay passes: the ratio decides
        "emails_first_after_s": "MISS",  # not measured
        "latency_ms.p99": "PASS",
        "peak_service_rss_mb": "PASS",  # no sample, so no service above 250 MB
    }
    json.dumps(report)  # serialisable as it is

    compared = finish_report(
        run, fake_sampler(), cfg, 2000, {**meta, "compare": {"bulk_cpu_ms_per_dossier": {"stack": 40.0}}}
    )
    assert compared["compare"]["cpu_ratio"] == 0.35
    cpu_target = next(t for t in compared["targets"] if t["figure"] == "cpu_ms_per_dossier.bulk.stack")
    assert (cpu_target["ratio"], cpu_target["result"]) == (0.35, "PASS")


def test_memory_peaks_are_told_by_phase() -> None:
    sampler = fake_sampler()  # marks at 100 (start), 101 (registration), 102 (bulk) … 105 (palmares)
    sampler.memory = [
        (100.5, {"submission": 100 * 1024, "notify": 50 * 1024}),
        (101.5, {"submission": 150 * 1024, "notify": 60 * 1024}),
        (104.2, {"submission": 300 * 1024, "notify": 55 * 1024}),
        (104.8, {"submission": 200 * 1024, "notify": 70 * 1024}),
    ]
    by_phase = sampler.peak_rss_mb_by_phase()
    assert by_phase["registration"]["submission"] == 100.0
    assert by_phase["bulk"]["submission"] == 150.0
    assert by_phase["regrade"]["submission"] == 0.0  # no sample in it
    assert (by_phase["palmares"]["submission"], by_phase["palmares"]["notify"]) == (300.0, 70.0)


def test_work_per_dossier_from_the_counters_at_phase_boundaries() -> None:
    def snap(statements: float, records: int, size: int, wal: int = 0) -> CounterSnapshot:
        return CounterSnapshot(
            {"scoring": statements}, {"scores.v1": records}, {"scores.v1": size}, {"WAL bytes": 5_000 + wal}
        )

    marks = {
        "start": snap(10, 0, 0),
        "registration": snap(10, 0, 0),
        "bulk": snap(510, 100, 40_000, wal=90_000),
        "latency": snap(2510, 900, 400_000, wal=900_000),
        "regrade": snap(2560, 1000, 440_000, wal=930_000),
    }
    counted = per_dossier(marks, ("registration", "bulk", "regrade", "palmares"), 100)
    assert counted["statements"] == {"scoring": {"bulk": 5.0, "regrade": 0.5, "campaign": 5.5}}
    assert counted["records"] == {"scores.v1": {"bulk": 1.0, "regrade": 1.0, "campaign": 2.0}}
    assert counted["bytes"] == {"scores.v1": {"bulk": 400.0, "regrade": 400.0, "campaign": 800.0}}
    assert counted["postgres"] == {"WAL bytes": {"bulk": 900.0, "regrade": 300.0, "campaign": 1200.0}}


def test_topic_bytes_from_the_broker_log_dir(tmp_path: Path) -> None:
    for partition, size in (
        ("scores.v1-0", 100),
        ("scores.v1-1", 50),
        ("submissions.v1-0", 7),
        ("__consumer_offsets-0", 9),
    ):
        (tmp_path / partition).mkdir()
        (tmp_path / partition / "00000000000000000000.log").write_bytes(b"x" * size)
        (tmp_path / partition / "00000000000000000000.index").write_bytes(b"i" * 1000)
    (tmp_path / "meta.properties").write_text("")
    assert log_bytes(tmp_path) == {"scores.v1": 150, "submissions.v1": 7}
    assert log_bytes(tmp_path / "absent") == {}


def test_statements_read_from_a_service_metrics_text() -> None:
    text = "# HELP palmares_db_statements_total SQL\n# TYPE palmares_db_statements_total counter\npalmares_db_statements_total 42.0\n"
    assert statements_in(text) == 42.0
    assert statements_in("# nothing here\n") == 0.0


def test_missing_keys_and_missing_figures() -> None:
    assert "latency_ms.p99" in stats.missing_keys({"latency_ms": {"p50": 1}})
    assert "services.notify.peak_rss_mb" in stats.missing_keys({"services": {"notify": {"cpu_s_per_1000": 1}}})
    rows = stats.check_targets({"regrade_s": None, "emails_per_s": 400, "latency_ms": {"p99": 999}})
    results = {r["figure"]: r["result"] for r in rows}
    assert (results["regrade_s"], results["emails_per_s"], results["latency_ms.p99"]) == ("MISS", "PASS", "PASS")
    assert results["drain_after_last_submission_s"] == "MISS"


# --- the lean HTTP client's parser -------------------------------------------------------------------


async def test_read_response_with_length_chunks_and_close() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b'HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{"a": 1}\n')
    reader.feed_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    reader.feed_data(b"HTTP/1.1 409 Conflict\r\nConnection: close\r\ncontent-length: 0\r\n\r\n")
    first, keep = await read_response(reader)
    assert (first.status_code, first.json(), keep) == (202, {"a": 1}, True)
    second, keep = await read_response(reader)
    assert (second.status_code, second.content, keep) == (200, b"abcde", True)
    third, keep = await read_response(reader)
    assert (third.status_code, third.content, keep) == (409, b"", False)
    reader.feed_eof()
    with pytest.raises(HttpError):
        await read_response(reader)


def test_replicas_count_under_their_service() -> None:
    assert [base_name(n) for n in ("kafka-0", "notify-2", "submission", "postgres", "smtp")] == [
        "kafka",
        "notify",
        "submission",
        "postgres",
        "smtp",
    ]
    cfg = parse_args(["--replicas", "notify=2", "--replicas", "submission=3"])
    assert cfg.replicas == {"notify": 2, "submission": 3}
    specs = replica_specs(cfg.replicas, {"API_URL": "http://127.0.0.1:1"})
    assert [s.name for s in specs] == ["notify-2", "submission-2", "submission-3"]
    assert len({s.env["PALMARES_HTTP_PORT"] for s in specs}) == 3, "each replica on a port of its own"
    with pytest.raises(SystemExit):
        parse_args(["--replicas", "kafka=2"])


def test_a_service_with_replicas_adds_up_their_cpu_and_keeps_the_largest_memory() -> None:
    alone = Component("notify", os.getpid())
    doubled = Component("notify", os.getpid(), replicas=(os.getpid(),))
    assert doubled.cpu_s() >= 2 * alone.cpu_s() * 0.99
    assert doubled.sample_memory() == pytest.approx(alone.sample_memory(), rel=0.1)


def test_a_campaign_larger_than_the_reference_repeats_codes_across_editions() -> None:
    members = [Member(f"{10000 + i}", f"Village {i}", "commune", "village", 100 + i) for i in range(3)]
    assert [(e, m.code) for e, m in campaign_entries(members, None)] == [
        (2018, "10000"),
        (2018, "10001"),
        (2018, "10002"),
    ]
    entries = campaign_entries(members, 7)
    assert [e for e, _ in entries] == [2018, 2018, 2018, 2019, 2019, 2019, 2020]
    assert len({(e, m.code) for e, m in entries}) == 7, "a collectivité at most once per edition"


def test_public_rows_give_the_api_p95_and_the_largest_inequality() -> None:
    from bench.bench import public_rows

    def fmt(value: object, unit: str = "") -> str:
        return f"{value}{unit}"

    public = {
        "catalogue_ms": {"p95": 41.5},
        "observatoire_ms": {"p95": 120.0},
        "largest_inequality": {"label": "Agent conversationnel", "gini": 0.81},
    }
    rows = public_rows(public, fmt)
    assert [r[1] for r in rows] == ["41.5 ms", "120.0 ms", "Agent conversationnel 0.81"]
    assert public_rows(None, fmt) == []
