"""deploy/prometheus/alerts.yml: Prometheus' rule-file structure, every expression parsed by a PromQL parser
(promql-parser, the Rust parser's Python binding: promtool is not available here), and every metric it reads
registered by the services' code."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
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
