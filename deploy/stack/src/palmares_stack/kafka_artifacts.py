"""Kafka server jars from Maven Central, fetched once and cached.

``deploy/kafka/pom.xml`` pins the artifacts. The first call runs Maven's
``dependency:copy-dependencies`` into a temporary directory, renames it to
``<cache>/kafka/<version>/libs`` and writes a marker holding the pom's hash.
Later calls only read the marker. An exclusive file lock serialises concurrent
callers (two pytest sessions, ``make up`` next to ``make test``), so Maven never
runs twice into the same directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .paths import cache_dir, repo_root

KAFKA_POM_ENV = "PALMARES_KAFKA_POM"
KAFKA_LIBS_ENV = "PALMARES_KAFKA_LIBS"
_MARKER = ".complete"


class ArtifactError(RuntimeError):
    """The Kafka jars are missing and could not be fetched."""


def kafka_pom() -> Path:
    """The pom pinning the Kafka artifacts (``$PALMARES_KAFKA_POM`` or ``deploy/kafka/pom.xml``)."""
    explicit = os.environ.get(KAFKA_POM_ENV)
    pom = Path(explicit) if explicit else repo_root() / "deploy" / "kafka" / "pom.xml"
    if not pom.is_file():
        raise ArtifactError(f"Kafka pom not found at {pom} (set {KAFKA_POM_ENV})")
    return pom


def kafka_version(pom: Path | None = None) -> str:
    """The ``<kafka.version>`` property of the pom (names the cache directory)."""
    text = (pom or kafka_pom()).read_text()
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", text)
    if match is None:
        raise ArtifactError(f"no <kafka.version> property in {pom}")
    return match.group(1)


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _is_complete(libs: Path, digest: str) -> bool:
    marker = libs / _MARKER
    try:
        return marker.read_text().strip() == digest and any(libs.glob("kafka_2.13-*.jar"))
    except OSError:
        return False


def _run_maven(pom: Path, output_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ArtifactError(
            "mvn not found: install Maven 3 (Debian: apt-get install maven) to fetch the "
            f"Kafka jars once, or point {KAFKA_LIBS_ENV} at a directory holding them"
        )
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={output_dir}",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise ArtifactError(f"mvn failed (exit {result.returncode}) for {pom}:\n{tail}")


def ensure_kafka_libs() -> Path:
    """Return a directory holding every jar the Kafka server needs, fetching it once.

    ``$PALMARES_KAFKA_LIBS`` bypasses Maven entirely (a directory prepared
    elsewhere). Raises :class:`ArtifactError` with Maven's output tail when the
    fetch fails.
    """
    explicit = os.environ.get(KAFKA_LIBS_ENV)
    if explicit:
        libs = Path(explicit)
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise ArtifactError(f"{KAFKA_LIBS_ENV}={libs} holds no kafka_2.13 jar")
        return libs

    pom = kafka_pom()
    digest = _pom_digest(pom)
    version_dir = cache_dir() / "kafka" / kafka_version(pom)
    libs = version_dir / "libs"
    if _is_complete(libs, digest):
        return libs

    version_dir.mkdir(parents=True, exist_ok=True)
    with (version_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_complete(libs, digest):  # another process finished while we waited
            return libs
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=version_dir))
        try:
            _run_maven(pom, staging)
            if not any(staging.glob("kafka_2.13-*.jar")):
                raise ArtifactError(f"mvn succeeded but produced no kafka_2.13 jar in {staging}")
            (staging / _MARKER).write_text(digest + "\n")
            if libs.exists():  # stale (pom changed) or half-written by a crashed run
                shutil.rmtree(libs)
            staging.rename(libs)  # atomic: readers see no libs dir or a complete one
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return libs
