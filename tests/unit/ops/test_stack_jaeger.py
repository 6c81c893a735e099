"""The launcher's optional Jaeger: configuration, the services' environment, and the fallback without Go."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from palmares_stack import cli, gotools, jaeger
from palmares_stack.stack import LocalStack, ServiceSpec


def test_config_listens_on_the_given_ports_of_localhost_and_serves_the_trace_page(tmp_path: Path) -> None:
    ports = jaeger.JaegerPorts(4318, 4317, 16686, 16685, 13133)
    config = yaml.safe_load(jaeger.config_yaml(ports, assets=tmp_path))
    otlp = config["receivers"]["otlp"]["protocols"]
    assert otlp["http"]["endpoint"] == "127.0.0.1:4318" and otlp["grpc"]["endpoint"] == "127.0.0.1:4317"
    query = config["extensions"]["jaeger_query"]
    assert query["http"]["endpoint"] == "127.0.0.1:16686" and query["grpc"]["endpoint"] == "127.0.0.1:16685"
    assert query["ui"]["assets_path"] == str(tmp_path)
    assert config["extensions"]["healthcheckv2"]["http"]["endpoint"] == "127.0.0.1:13133"
    assert config["service"]["telemetry"]["metrics"]["level"] == "none"  # no fixed port 8888
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["jaeger_storage_exporter"]
    assert (jaeger.ui_dir() / "index.html").is_file()


def test_ports_round_trip_through_stack_env() -> None:
    ports = jaeger.JaegerPorts.free()
    assert jaeger.JaegerPorts.from_env(ports.env()) == ports
    assert jaeger.JaegerPorts.from_env({}) is None
    env = jaeger.service_env(ports)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://127.0.0.1:{ports.otlp_http}"
    assert env["JAEGER_UI_URL"] == f"http://127.0.0.1:{ports.ui}"


def spec(name: str) -> ServiceSpec:
    return ServiceSpec(name=name, argv=["true"], env={"PALMARES_HTTP_PORT": "1"})


def test_with_jaeger_the_services_export_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "jaeger"
    binary.write_text("")
    monkeypatch.setattr(jaeger, "ensure", lambda **_: binary)
    monkeypatch.setattr(jaeger, "ui_dir", lambda: tmp_path)
    services, extra = cli._with_jaeger(LocalStack(tmp_path / "run"), [spec("scoring")], {"PALMARES_TRACE_DIR": "t"})
    assert [s.name for s in services] == ["jaeger", "scoring"]
    assert services[0].argv[0] == str(binary)
    assert services[1].env["OTEL_EXPORTER_OTLP_ENDPOINT"] == extra["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert extra["PALMARES_TRACE_DIR"] == "t"  # the JSON-lines store stays
    assert "JAEGER_UI_URL" in extra and "JAEGER_PORT_UI" in extra


def test_without_jaeger_the_stack_starts_without_it_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unavailable(**_: object) -> Path:
        raise jaeger.JaegerUnavailable("no Go toolchain on PATH (`go`), so jaeger cannot be built here")

    monkeypatch.setattr(jaeger, "ensure", unavailable)
    services, extra = cli._with_jaeger(
        LocalStack(tmp_path / "run"), [spec("scoring")], {"PALMARES_TRACE_DIR": "/x/traces"}
    )
    assert [s.name for s in services] == ["scoring"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in services[0].env and "JAEGER_UI_URL" not in extra
    err = capsys.readouterr().err
    assert "Jaeger not available (no Go toolchain" in err
    assert "JSON-lines store only (/x/traces)" in err and "palmares trace <submission_id>" in err


def test_a_go_tool_is_unavailable_without_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALMARES_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PALMARES_JAEGER_BIN", raising=False)
    monkeypatch.setattr(gotools.shutil, "which", lambda name: None)
    with pytest.raises(gotools.ToolUnavailable, match="no Go toolchain"):
        gotools.ensure(gotools.TOOLS["jaeger"])
    with pytest.raises(gotools.ToolUnavailable, match="make jaeger"):
        gotools.ensure(gotools.TOOLS["jaeger"], allow_build=False)


def test_a_built_tool_is_taken_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALMARES_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PALMARES_KUSTOMIZE_BIN", raising=False)
    tool = gotools.TOOLS["kustomize"]
    assert tool.binary() == tmp_path / "bin" / "kustomize-v5.8.1"
    tool.binary().parent.mkdir(parents=True)
    tool.binary().write_text("")
    monkeypatch.setattr(gotools.shutil, "which", lambda name: None)  # never built again
    assert gotools.ensure(tool) == tool.binary()


def test_two_builds_of_one_tool_at_once_run_go_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI prepares the tools in the background while a step may ask for the same one: one build, both get it."""
    monkeypatch.setenv("PALMARES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PALMARES_KUSTOMIZE_BIN", raising=False)
    runs, waiting = tmp_path / "runs", tmp_path / "waiting"
    fake_go = tmp_path / "go"
    # A `go build … -o <out> <package>` that counts its runs and finishes once the other build waits
    # (or after 10 s: without the lock, both builds would run and neither would wait).
    fake_go.write_text(
        f'#!/bin/sh\necho run >> "{runs}"\nwhile [ "$1" != "-o" ]; do shift; done\n'
        f'for i in $(seq 100); do [ -e "{waiting}" ] && break; sleep 0.1; done\necho binary > "$2"\n'
    )
    fake_go.chmod(0o755)
    monkeypatch.setattr(gotools.shutil, "which", lambda name: str(fake_go) if name == "go" else None)
    tool = gotools.TOOLS["kustomize"]
    messages: list[str] = []

    def log(message: str) -> None:
        messages.append(message)
        if "being built by another process" in message:
            waiting.touch()

    with ThreadPoolExecutor(2) as pool:
        built = list(pool.map(lambda _: gotools.build(tool, log=log), range(2)))
    assert built == [tool.binary(), tool.binary()]
    assert tool.binary().read_text() == "binary\n"
    assert runs.read_text().splitlines() == ["run"], messages
    assert any("being built by another process" in m for m in messages), messages
