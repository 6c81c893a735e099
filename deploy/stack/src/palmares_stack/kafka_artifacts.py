"""Kafka server jars from Maven Central, fetched once and cached (see `maven`).

``deploy/kafka/pom.xml`` pins the artifacts; they are cached in
``<cache>/kafka/<version>/libs``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .maven import ArtifactError, ensure_jars, pom_property, prepared
from .paths import repo_root

__all__ = ["KAFKA_LIBS_ENV", "KAFKA_POM_ENV", "ArtifactError", "ensure_kafka_libs", "kafka_pom", "kafka_version"]

KAFKA_POM_ENV = "PALMARES_KAFKA_POM"
KAFKA_LIBS_ENV = "PALMARES_KAFKA_LIBS"


def kafka_pom() -> Path:
    """The pom pinning the Kafka artifacts (``$PALMARES_KAFKA_POM`` or ``deploy/kafka/pom.xml``)."""
    explicit = os.environ.get(KAFKA_POM_ENV)
    pom = Path(explicit) if explicit else repo_root() / "deploy" / "kafka" / "pom.xml"
    if not pom.is_file():
        raise ArtifactError(f"Kafka pom not found at {pom} (set {KAFKA_POM_ENV})")
    return pom


def kafka_version(pom: Path | None = None) -> str:
    """The ``<kafka.version>`` property of the pom (names the cache directory)."""
    return pom_property(pom or kafka_pom(), "kafka.version")


def ensure_kafka_libs() -> Path:
    """Return a directory holding every jar the Kafka server needs, fetching it once.

    ``$PALMARES_KAFKA_LIBS`` bypasses Maven entirely (a directory prepared
    elsewhere). Raises :class:`ArtifactError` with Maven's output tail when the
    fetch fails.
    """
    libs = prepared(KAFKA_LIBS_ENV, "kafka_2.13-*.jar")
    if libs is not None:
        return libs
    pom = kafka_pom()
    return ensure_jars(
        pom,
        "kafka",
        kafka_version(pom),
        "kafka_2.13-*.jar",
        f"the Kafka jars once, or point {KAFKA_LIBS_ENV} at a directory holding them",
    )
