"""Kafka jar cache: fetched once under a lock, marker-checked, clear errors."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from palmares_stack.kafka_artifacts import ArtifactError, ensure_kafka_libs, kafka_version

POM = """<project><properties><kafka.version>9.9.9</kafka.version></properties></project>"""


def _fake_mvn(bin_dir: Path, calls: Path, body: str) -> None:
    """A stand-in ``mvn`` that records each call and runs ``body``."""
    script = bin_dir / "mvn"
    script.write_text(
        "#!/bin/sh\n"
        f"echo call >> {calls}\n"
        'for a in "$@"; do case $a in -DoutputDirectory=*) out=${a#-DoutputDirectory=};; esac; done\n'
        f"{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pom = tmp_path / "pom.xml"
    pom.write_text(POM)
    monkeypatch.setenv("PALMARES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PALMARES_KAFKA_POM", str(pom))
    monkeypatch.delenv("PALMARES_KAFKA_LIBS", raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir, tmp_path


def test_fetched_once_even_with_concurrent_callers(sandbox: tuple[Path, Path]) -> None:
    bin_dir, root = sandbox
    calls = root / "calls"
    _fake_mvn(bin_dir, calls, 'sleep 0.3; touch "$out/kafka_2.13-9.9.9.jar" "$out/x.jar"')
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_kafka_libs())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libs = root / "cache" / "kafka" / "9.9.9" / "libs"
    assert results == [libs] * 3
    assert calls.read_text().count("call") == 1
    assert (libs / "kafka_2.13-9.9.9.jar").is_file() and (libs / ".complete").is_file()
    assert ensure_kafka_libs() == libs and calls.read_text().count("call") == 1


def test_changed_pom_refetches(sandbox: tuple[Path, Path]) -> None:
    bin_dir, root = sandbox
    calls = root / "calls"
    _fake_mvn(bin_dir, calls, 'touch "$out/kafka_2.13-9.9.9.jar"')
    ensure_kafka_libs()
    (root / "pom.xml").write_text(POM + "\n<!-- log4j bump -->\n")
    ensure_kafka_libs()
    assert calls.read_text().count("call") == 2


def test_maven_failure_quotes_its_output(sandbox: tuple[Path, Path]) -> None:
    bin_dir, root = sandbox
    _fake_mvn(bin_dir, root / "calls", "echo 'Could not resolve dependencies' >&2; exit 1")
    with pytest.raises(ArtifactError, match=r"(?s)mvn failed \(exit 1\).*Could not resolve"):
        ensure_kafka_libs()
    assert not (root / "cache" / "kafka" / "9.9.9" / "libs").exists()


def test_missing_maven_is_explained(sandbox: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, root = sandbox
    monkeypatch.setenv("PATH", str(root / "empty"))
    with pytest.raises(ArtifactError, match="mvn not found"):
        ensure_kafka_libs()


def test_version_comes_from_the_repository_pom() -> None:
    pom = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
    assert kafka_version(pom) == "4.1.1"
