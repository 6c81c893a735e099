"""Jars from Maven Central, fetched once per pom and cached (Kafka's server, LanguageTool's French module).

A pom under ``deploy/`` pins the artifacts. The first call runs Maven's
``dependency:copy-dependencies`` (runtime scope) into a temporary directory,
renames it to ``<cache>/<name>/<version>/libs`` and writes a marker holding
the pom's hash. Later calls only read the marker. An exclusive file lock
serialises concurrent callers (two pytest sessions, ``make up`` next to
``make test``), so Maven never runs twice into the same directory.
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

from .paths import cache_dir

_MARKER = ".complete"


class ArtifactError(RuntimeError):
    """Jars are missing and could not be fetched."""


def prepared(env: str, probe: str) -> Path | None:
    """The directory of jars that `$env` names, prepared elsewhere (bypassing Maven), or None when unset."""
    explicit = os.environ.get(env)
    if not explicit:
        return None
    libs = Path(explicit)
    if not any(libs.glob(probe)):
        raise ArtifactError(f"{env}={libs} holds no {probe}")
    return libs


def pom_property(pom: Path, name: str) -> str:
    """A ``<properties>`` value of the pom (``kafka.version``: it names the cache directory)."""
    match = re.search(rf"<{re.escape(name)}>\s*([^<\s]+)\s*</{re.escape(name)}>", pom.read_text())
    if match is None:
        raise ArtifactError(f"no <{name}> property in {pom}")
    return match.group(1)


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _is_complete(libs: Path, digest: str, probe: str) -> bool:
    marker = libs / _MARKER
    try:
        return marker.read_text().strip() == digest and any(libs.glob(probe))
    except OSError:
        return False


def _run_maven(pom: Path, output_dir: Path, hint: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ArtifactError(f"mvn not found: install Maven 3 (Debian: apt-get install maven) to fetch {hint}")
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        # Runtime scope: never a test artifact (languagetool-core's test-jar does not resolve).
        "-DincludeScope=runtime",
        f"-DoutputDirectory={output_dir}",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise ArtifactError(f"mvn failed (exit {result.returncode}) for {pom}:\n{tail}")


def ensure_jars(pom: Path, name: str, version: str, probe: str, hint: str) -> Path:
    """Return ``<cache>/<name>/<version>/libs`` holding every jar of `pom`, fetching it once.

    `probe` is a glob that a complete directory matches (``kafka_2.13-*.jar``);
    `hint` completes the error when Maven is missing. Raises
    :class:`ArtifactError` with Maven's output tail when the fetch fails.
    """
    digest = _pom_digest(pom)
    version_dir = cache_dir() / name / version
    libs = version_dir / "libs"
    if _is_complete(libs, digest, probe):
        return libs

    version_dir.mkdir(parents=True, exist_ok=True)
    with (version_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_complete(libs, digest, probe):  # another process finished while we waited
            return libs
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=version_dir))
        try:
            _run_maven(pom, staging, hint)
            if not any(staging.glob(probe)):
                raise ArtifactError(f"mvn succeeded but produced no {probe} in {staging}")
            (staging / _MARKER).write_text(digest + "\n")
            if libs.exists():  # stale (pom changed) or half-written by a crashed run
                shutil.rmtree(libs)
            staging.rename(libs)  # atomic: readers see no libs dir or a complete one
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return libs
