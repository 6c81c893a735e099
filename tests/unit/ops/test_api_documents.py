"""The committed AsyncAPI and OpenAPI documents are the ones the code generates (`make asyncapi`).

The generator runs in a subprocess: building a service's runtime installs its
JSON log handler and tracer provider, which must not leak into this test process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from palmares_contracts import ALL_TOPICS

REPO = Path(__file__).resolve().parents[3]
GENERATE = REPO / "deploy" / "apidocs" / "generate.py"
DOCS = REPO / "docs"
SERVICES = ("submission", "scoring", "mentions", "notify")
# docs/architecture.md, "Topics and events": who produces and who consumes each topic.
PRODUCES = {
    "submission": {"grilles.v1", "submissions.v1", "jury.v1", "palmares.v1"},
    "scoring": {"scores.v1"},
    "mentions": {"mentions.v1"},
    "notify": {"notifications.v1"},
}
CONSUMES = {
    # Not grilles.v1 nor jury.v1: submission writes those itself (same database), so it does not consume them.
    "submission": {"scores.v1", "mentions.v1", "notifications.v1"},
    "scoring": {"submissions.v1", "grilles.v1"},
    "mentions": {"submissions.v1", "grilles.v1"},
    "notify": {"grilles.v1", "submissions.v1", "scores.v1", "mentions.v1", "jury.v1", "palmares.v1"},
}


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATE), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def load(service: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCS / "asyncapi" / f"{service}.yaml").read_text(encoding="utf-8"))
    return document


def test_committed_documents_match_the_code() -> None:
    result = run("--check")
    assert result.returncode == 0, f"run `make asyncapi` and commit docs/:\n{result.stderr}"


def test_check_fails_and_names_the_file_when_a_document_differs(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS / "asyncapi", docs / "asyncapi")
    shutil.copy(DOCS / "openapi.json", docs / "openapi.json")
    scoring = docs / "asyncapi" / "scoring.yaml"
    scoring.write_text(scoring.read_text(encoding="utf-8").replace("scores.v1", "scores.v9"), encoding="utf-8")
    result = run("--check", "--docs-dir", str(docs))
    assert result.returncode == 1
    assert "docs/asyncapi/scoring.yaml" in result.stderr
    assert "openapi.json" not in result.stderr.split("out of date")[-1]


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_document_describes_what_the_service_consumes_and_produces(service: str) -> None:
    document = load(service)
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    operations = document["operations"]
    received = {channels[name]["address"] for name, op in operations.items() if op["action"] == "receive"}
    sent = {channels[name]["address"] for name, op in operations.items() if op["action"] == "send"}
    assert received == CONSUMES[service]
    # Its events, plus one dead-letter topic per consumed topic.
    assert sent == PRODUCES[service] | {f"{topic}.dlq" for topic in CONSUMES[service]}


@pytest.mark.parametrize("service", SERVICES)
def test_payloads_are_the_contracts_event_schemas(service: str) -> None:
    document = load(service)
    schemas = document["components"]["schemas"]
    by_topic = {t.name: {e.__name__ for e in t.events} for t in ALL_TOPICS}
    for name, channel in document["channels"].items():
        if channel["address"].endswith(".dlq"):
            continue
        (ref,) = channel["messages"].values()
        message = document["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
        payload = message["payload"]
        refs = [item["$ref"] for item in payload.get("oneOf", [payload])]
        models = {r.rsplit("/", 1)[1] for r in refs}
        assert models == by_topic[channel["address"]], name
        for model in models:
            assert "event_id" in schemas[model]["properties"], model
    # Every reference resolves inside the document.
    text = json.dumps(document)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        node: Any = document
        for step in ref.removeprefix("#/").split("/"):
            node = node[step]


def test_faststream_cli_generates_the_committed_document(tmp_path: Path) -> None:
    """`faststream docs gen` on the docs module gives the same document as `make asyncapi`."""
    faststream = Path(sys.executable).with_name("faststream")
    if not faststream.exists():
        pytest.skip("faststream's CLI is not installed in this environment")
    out = tmp_path / "scoring.yaml"
    result = subprocess.run(
        [
            str(faststream),
            "docs",
            "gen",
            "--yaml",
            "--app-dir",
            str(REPO / "deploy" / "apidocs"),
            "palmares_apidocs:scoring",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == (DOCS / "asyncapi" / "scoring.yaml").read_text(encoding="utf-8")


def test_openapi_document_is_the_served_one() -> None:
    from palmares_submission.app import openapi_document

    committed = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document()
    assert "/v1/collectivites/{code}/token" in committed["paths"]
