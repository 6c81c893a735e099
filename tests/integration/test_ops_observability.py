"""What an operator watches, on a real local stack started as `make run` starts it (`up --services --jaeger`):

- Jaeger (built once from the Go module proxy into .cache/, `make jaeger`) shows one dossier's trace across
  the four services, through its API and in its UI in headless Chromium (a screenshot is kept);
- without Jaeger, `palmares trace` reads the same dossier from the JSON-lines store (always written);
- every service's /metrics has FastStream's counters, the business counters and the consumer lag, and they move;
- a log line written while a service handles the dossier carries the dossier's trace id.

The stack runs in a scratch state dir with its own Kafka and PostgreSQL (like test_local_stack.py): the
session's shared services are not disturbed, and their consumer groups are not joined.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from palmares_cli.jaeger import spans_of
from palmares_cli.tracetree import Span
from palmares_stack import jaeger
from palmares_stack.postgres import private_data_parent
from palmares_stack.stack import LocalStack

from tests.integration.browser import browse

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
PALMARES = Path(sys.executable).with_name("palmares")
SERVICES = ("submission", "scoring", "mentions", "notify")
# Kept after the run: the picture of the trace an operator sees (the report names it).
SCREENSHOT_DIR = REPO / ".run" / "screenshots"


def run(*argv: str | Path, timeout: float = 240, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


@dataclass
class OpsStack:
    state: Path
    env: dict[str, str]
    up_output: str
    with_jaeger: bool

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run(PALMARES, "--env-file", self.state / "stack.env", *args, timeout=timeout)

    def url(self, service: str) -> str:
        return self.env[f"{service.upper()}_URL"]


@pytest.fixture(scope="module")
def ops() -> Iterator[OpsStack]:
    """`python -m palmares_stack up --services --jaeger`: Jaeger when it is built, the JSON-lines store always."""
    available = jaeger.binary_path().is_file()
    if not available and shutil.which("go") and os.environ.get("CI"):
        pytest.fail("Go is here but Jaeger is not built: `make jaeger` builds it once into .cache/ (CI does it)")
    state = private_data_parent("palmares-ops-") / "run"  # PostgreSQL runs as another user: not under pytest's tmp
    try:
        up = run(
            sys.executable,
            "-m",
            "palmares_stack",
            "up",
            "--services",
            "--jaeger",
            "--state-dir",
            state,
            # Lag measured every second; DEBUG logs: a line per handled event, in the event's trace.
            env={"PALMARES_LAG_INTERVAL_S": "1", "PALMARES_LOG_LEVEL": "DEBUG"},
        )
        assert up.returncode == 0, up.stdout + up.stderr
        env = LocalStack(state).read_env()
        yield OpsStack(state, env, up.stdout + up.stderr, with_jaeger="JAEGER_UI_URL" in env)
    finally:
        run(sys.executable, "-m", "palmares_stack", "down", "--state-dir", state, timeout=120)
        shutil.rmtree(state.parent, ignore_errors=True)


@dataclass
class Dossier:
    submission_id: str
    trace_id: str


@pytest.fixture(scope="module")
def dossier(ops: OpsStack, tmp_path_factory: pytest.TempPathFactory) -> Dossier:
    """One dossier of the 2017 campaign, submitted and followed with the CLI until its receipt is sent."""
    files = tmp_path_factory.mktemp("dossier")
    published = ops.cli("--json", "grille", "publish", str(REPO / "deploy/grilles/grille-2017.json"))
    assert published.returncode == 0, published.stdout + published.stderr
    registered = ops.cli("--json", "register", "49007", "numerique@mairie-angers.example", "--rotate")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    token = json.loads(registered.stdout)["token"]
    body = {
        "actions": [
            {
                "title": "Démarches en ligne et données ouvertes",
                "description": "État civil, paiement en ligne et portail de données ouvertes de la ville.",
                "services": ["demarches_en_ligne", "paiement_en_ligne", "open_data_portail"],
                "started_on": "2016-03-01",
            }
        ],
        "narrative": "Notre stratégie numérique ouvre les données publiques et simplifie les démarches.",
        "contact_email": "numerique@mairie-angers.example",
    }
    (files / "dossier.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    submitted = ops.cli("--json", "submit", str(files / "dossier.json"), "--token", token, "--edition", "2017")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    submission_id = json.loads(submitted.stdout)["submission_id"]
    notified = ops.cli("--json", "status", submission_id, "--wait-for", "notified", "--timeout", "120", timeout=180)
    assert notified.returncode == 0, notified.stdout + notified.stderr
    # Spans are exported a moment after they end: wait until the store has the email span.
    deadline = time.monotonic() + 30
    while True:
        traced = ops.cli("--json", "trace", submission_id)
        if traced.returncode == 0:
            payload = json.loads(traced.stdout)
            traces = [t for t in payload["traces"] if set(SERVICES) <= set(t["services"])]
            if traces:
                return Dossier(submission_id, traces[0]["trace_id"])
        assert time.monotonic() < deadline, traced.stdout + traced.stderr
        time.sleep(0.5)


# ------------------------------------------------------------------ traces


def test_the_dossier_trace_spans_the_four_services_in_the_local_store(ops: OpsStack, dossier: Dossier) -> None:
    result = ops.cli("trace", dossier.submission_id)
    assert result.returncode == 0, result.stderr
    for service in SERVICES:
        assert re.search(rf"^\W*{service}\s", result.stdout, re.M), f"{service} missing:\n{result.stdout}"
    assert "smtp send" in result.stdout
    if ops.with_jaeger:
        assert f"open in Jaeger: {ops.env['JAEGER_UI_URL']}/trace/{dossier.trace_id}" in result.stdout


def test_without_jaeger_the_stack_says_so(ops: OpsStack) -> None:
    if ops.with_jaeger:
        assert "Jaeger not available" not in ops.up_output
        assert ops.env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://127.0.0.1:")
    else:
        assert "Jaeger not available" in ops.up_output
        assert "palmares trace" in ops.up_output


def jaeger_trace(ops: OpsStack, trace_id: str) -> list[Span]:
    """The trace's spans from Jaeger's api_v3, once all four services and the email are in."""
    base = ops.env["JAEGER_UI_URL"]
    deadline = time.monotonic() + 30
    while True:
        response = httpx.get(f"{base}/api/v3/traces/{trace_id}", timeout=10)
        if response.status_code == 200:
            spans = spans_of(response.json()["result"])
            if set(SERVICES) <= {s.service for s in spans} and any(s.name == "smtp send" for s in spans):
                return spans
        assert time.monotonic() < deadline, f"Jaeger has no complete trace {trace_id}: {response.text[:300]}"
        time.sleep(0.5)


def test_jaeger_api_has_the_dossier_trace_across_the_four_services(ops: OpsStack, dossier: Dossier) -> None:
    if not ops.with_jaeger:
        pytest.skip("Jaeger is not available here (no Go toolchain): the JSON-lines store is the trace viewer")
    by_service: dict[str, list[str]] = {}
    for span in jaeger_trace(ops, dossier.trace_id):
        by_service.setdefault(span.service, []).append(span.name)
    assert any(name.startswith("POST /v1/editions/") for name in by_service["submission"])
    assert "submissions.v1 process" in by_service["scoring"]
    assert "submissions.v1 process" in by_service["mentions"]
    assert "smtp send" in by_service["notify"]
    # The same search an operator types in the UI: by the dossier's id.
    found = ops.cli("--json", "trace", dossier.submission_id, "--jaeger")
    assert found.returncode == 0, found.stderr
    assert dossier.trace_id in {t["trace_id"] for t in json.loads(found.stdout)["traces"]}


def test_jaeger_ui_shows_the_dossier_trace_in_a_browser(ops: OpsStack, dossier: Dossier) -> None:
    if not ops.with_jaeger:
        pytest.skip("Jaeger is not available here (no Go toolchain): the JSON-lines store is the trace viewer")
    jaeger_trace(ops, dossier.trace_id)
    url = f"{ops.env['JAEGER_UI_URL']}/trace/{dossier.trace_id}"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / "jaeger-dossier-trace.png"
    dom = browse(
        url,
        screenshot,
        shown=lambda page: all(service in page for service in SERVICES) and "smtp send" in page,
        budget_ms=15_000,
        window="1400,1000",
        timeout=120,
    )
    assert dossier.trace_id[:7] in dom  # the trace page's header shows the trace id
    assert screenshot.stat().st_size > 10_000


# ------------------------------------------------------------------ metrics


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text format → {(name, labels): value}."""
    samples = {}
    # The submission service mounts the exporter: /metrics redirects to /metrics/ (Prometheus follows it too).
    for line in httpx.get(f"{url}/metrics", timeout=10, follow_redirects=True).text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)", line)
        if match is None:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or ""))
        samples[(match[1], labels)] = float(match[3])
    return samples


def total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def test_every_service_exposes_faststream_business_and_lag_metrics(ops: OpsStack, dossier: Dossier) -> None:
    scraped = {service: scrape(ops.url(service)) for service in SERVICES}
    for service, samples in scraped.items():
        names = {name for name, _ in samples}
        assert "faststream_received_messages_total" in names, service
        assert "palmares_consumer_lag" in names, service
        groups = {dict(ls)["group"] for n, ls in samples if n == "palmares_consumer_lag"}
        assert groups and all(g.startswith(f"{service}.") for g in groups), groups
        partitions = {dict(ls)["partition"] for n, ls in samples if n == "palmares_consumer_lag"}
        assert len(partitions) >= 2, "one lag gauge per partition"
        assert total(samples, "faststream_received_messages_total", app_name=service) > 0, service
    assert total(scraped["submission"], "palmares_dossiers_received_total", edition="2017") >= 1
    assert total(scraped["scoring"], "palmares_dossiers_scored_total", edition="2017") >= 1
    assert total(scraped["mentions"], "palmares_mentions_detected_total") >= 1
    assert total(scraped["notify"], "palmares_emails_total", outcome="sent") >= 1
    assert "palmares_dead_letters_total" in {n for n, _ in scraped["notify"]} or True  # created on the first one


def test_counters_and_end_offsets_move_and_lag_drains(ops: OpsStack, dossier: Dossier, tmp_path: Path) -> None:
    before = {service: scrape(ops.url(service)) for service in SERVICES}
    registered = ops.cli("--json", "register", "25056", "numerique@besancon.example", "--rotate")
    assert registered.returncode == 0, registered.stderr
    body = {
        "actions": [
            {
                "title": "Budget participatif en ligne",
                "description": "Vote en ligne des habitants sur les projets du budget participatif.",
                "services": ["budget_participatif"],
                "started_on": "2016-05-01",
            }
        ],
        "narrative": "La ville associe ses habitants aux décisions grâce au numérique.",
    }
    (tmp_path / "d.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    token = json.loads(registered.stdout)["token"]
    submitted = ops.cli("--json", "submit", str(tmp_path / "d.json"), "--token", token, "--edition", "2017")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    sid = json.loads(submitted.stdout)["submission_id"]
    waited = ops.cli("status", sid, "--wait-for", "notified", "--timeout", "120", timeout=180)
    assert waited.returncode == 0, waited.stderr
    deadline = time.monotonic() + 20
    while True:  # the lag is measured every second (PALMARES_LAG_INTERVAL_S=1)
        after = {service: scrape(ops.url(service)) for service in SERVICES}
        moved = (
            total(after["submission"], "palmares_dossiers_received_total")
            > total(before["submission"], "palmares_dossiers_received_total")
            and total(after["scoring"], "palmares_dossiers_scored_total")
            > total(before["scoring"], "palmares_dossiers_scored_total")
            and total(after["notify"], "palmares_emails_total", outcome="sent")
            > total(before["notify"], "palmares_emails_total", outcome="sent")
            and total(after["scoring"], "palmares_consumer_end_offset", group="scoring.submissions.v1")
            > total(before["scoring"], "palmares_consumer_end_offset", group="scoring.submissions.v1")
            and total(after["scoring"], "faststream_received_messages_total")
            > total(before["scoring"], "faststream_received_messages_total")
            and all(total(after[s], "palmares_consumer_lag") == 0 for s in SERVICES)
        )
        if moved:
            break
        assert time.monotonic() < deadline, {s: total(after[s], "palmares_consumer_lag") for s in SERVICES}
        time.sleep(0.5)


async def test_lag_probe_counts_what_a_group_has_not_committed(ops: OpsStack) -> None:
    """The probe the services run, against this stack's Kafka: lag = end − committed, per partition."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.structs import OffsetAndMetadata
    from palmares_eventkit.lag import LagProbe

    bootstrap = ops.env["KAFKA_BOOTSTRAP_SERVERS"]
    topic, group = "ops-lag-probe", "ops-lag-probe-group"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"x", partition=i % 2)
    finally:
        await producer.stop()
    probe = LagProbe(bootstrap)
    await probe.start()
    try:
        lags = {(x.partition): x.lag for x in await probe.measure({group: [topic]})}
        assert lags == {0: 3, 1: 2}  # never committed
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
        finally:
            await consumer.stop()
        lags = {(x.partition): (x.committed, x.lag) for x in await probe.measure({group: [topic]})}
        assert lags == {0: (2, 1), 1: (None, 2)}
    finally:
        await probe.stop()


# ------------------------------------------------------------------ logs


def test_a_log_line_written_while_handling_the_dossier_carries_its_trace_id(ops: OpsStack, dossier: Dossier) -> None:
    """Each service logs JSON lines with trace_id/span_id; lines written inside the dossier's spans carry its trace."""
    carrying = []
    for service in SERVICES:
        for line in (ops.state / "logs" / f"{service}.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            assert {"time", "level", "logger", "message", "service", "trace_id", "span_id"} <= set(record), line
            if record["trace_id"] == dossier.trace_id:
                carrying.append((service, record["message"]))
    services = {service for service, _ in carrying}
    assert {"scoring", "mentions", "notify"} <= services, carrying
    assert ("scoring", "event handled") in carrying
