"""deploy/prometheus/alerts.yml: Prometheus' rule-file structure, every expression parsed by a PromQL parser
(promql-parser, the Rust parser's Python binding), and every metric it reads registered by the services' code;
then Prometheus' own checker, promtool (built from the Go module proxy by `make promtool`): the configuration
and the rules accepted, and the rules' unit tests (deploy/prometheus/alerts.test.yml) passed."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
SERVICES = ("submission", "scoring", "mentions", "notify")
# Series Prometheus makes itself for every target.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
# What an operator must be told about (the alert names cover each).
REQUIRED = {
    "PalmaresConsumerLagNotDraining": "palmares_consumer_lag",
    "PalmaresDeadLettersGrowing": "palmares_dead_letters_total",
    "PalmaresOutboxBacklog": "palmares_outbox_backlog",
    "PalmaresEmailFailures": "palmares_emails_total",
    "PalmaresServiceDown": "up",
    "PalmaresServiceNotReady": "palmares_consumer_lag_last_success_seconds",
}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def exported_series() -> set[str]:
    """Series names of every metric the four services register when their application is built."""
    for service in SERVICES:
        importlib.import_module(f"palmares_{service}.app")
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def test_the_rule_file_is_loaded_by_the_prometheus_configuration() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == [RULES.name]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert f"./prometheus/{RULES.name}:/etc/prometheus/{RULES.name}:ro" in compose["services"]["prometheus"]["volumes"]


def test_every_rule_has_the_structure_prometheus_requires() -> None:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert set(document) == {"groups"}
    names = []
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule
            names.append(rule["alert"])
            assert rule["alert"].isidentifier()
            if "for" in rule:
                promql_parser.parse_duration(rule["for"])
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert {"summary", "description"} <= set(rule["annotations"])
    assert len(names) == len(set(names)), "alert names are unique"
    assert set(REQUIRED) <= set(names)


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_every_expression_parses_and_reads_exported_metrics(rule: dict[str, Any]) -> None:
    found = selectors(rule["expr"])  # raises ValueError on invalid PromQL
    assert found, "an alert reads at least one series"
    exported = exported_series() | PROMETHEUS_SERIES
    for selector in found:
        assert selector.name in exported, f"{rule['alert']} reads {selector.name}, which no service exports"
    if rule["alert"] in REQUIRED:
        assert REQUIRED[rule["alert"]] in {s.name for s in found}


def test_a_misspelt_metric_or_invalid_expression_is_caught() -> None:
    with pytest.raises(ValueError):
        selectors("sum by (topic) (increase(palmares_dead_letters_total[10m]) > 0")
    assert "palmares_dead_letter_total" not in exported_series()


# ------------------------------------------------------------------ promtool


def promtool() -> str:
    """`promtool` built from the Go module proxy (`make promtool`), else one on PATH."""
    from palmares_stack.gotools import TOOLS

    for candidate in (str(TOOLS["promtool"].binary()), shutil.which("promtool")):
        if candidate and Path(candidate).is_file():
            return candidate
    if os.environ.get("CI") and shutil.which("go"):
        pytest.fail("promtool is not built: `make promtool` (`make test-unit` builds it before the tests)")
    pytest.skip("promtool is not built here (`make promtool`; it needs Go): the PromQL parser's checks above remain")


def run_promtool(*args: str, cwd: Path = RULES.parent) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    config = run_promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "SUCCESS: 1 rule files found" in config.stdout
    checked = run_promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout


def test_every_alert_fires_on_its_series_and_not_on_healthy_ones() -> None:
    """promtool's unit tests of the rules: each alert with its labels and text, and series that must not fire."""
    document = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    tested = {case["alertname"] for test in document["tests"] for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules()}, "every alert has its test"
    result = run_promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_catches_an_invalid_rule_and_an_alert_that_would_not_fire(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yml"
    broken.write_text(
        RULES.read_text(encoding="utf-8").replace("increase(palmares_dead_letters_total[10m])", "increase(["),
        encoding="utf-8",
    )
    assert run_promtool("check", "rules", str(broken)).returncode != 0

    # The dead letters' alert made to need 2 records in 10 minutes: the test's single record no longer fires it.
    broken.write_text(
        RULES.read_text(encoding="utf-8").replace(
            "(increase(palmares_dead_letters_total[10m])) > 0", "(increase(palmares_dead_letters_total[10m])) > 1"
        ),
        encoding="utf-8",
    )
    (tmp_path / RULE_TESTS.name).write_text(RULE_TESTS.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0 and "PalmaresDeadLettersGrowing" in result.stdout + result.stderr
