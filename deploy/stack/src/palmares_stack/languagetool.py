"""LanguageTool's French checker, run locally: its jars from Maven Central, one Java process per check.

``deploy/languagetool/pom.xml`` pins ``org.languagetool:language-fr`` (its
core and French dictionaries come with it); the jars are cached like Kafka's
(`maven`). ``deploy/languagetool/FrenchCheck.java`` drives LanguageTool's Java
API and runs with Java's source launcher, so nothing is built: it reads texts
as JSON and prints what LanguageTool finds in them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .maven import ArtifactError, ensure_jars, pom_property, prepared
from .paths import repo_root

LANGUAGETOOL_LIBS_ENV = "PALMARES_LANGUAGETOOL_LIBS"


def languagetool_dir() -> Path:
    """``deploy/languagetool``: the pom and the Java program."""
    return repo_root() / "deploy" / "languagetool"


def ensure_languagetool_libs() -> Path:
    """A directory holding LanguageTool's French module and every jar it needs, fetched once.

    ``$PALMARES_LANGUAGETOOL_LIBS`` bypasses Maven (a directory prepared elsewhere).
    """
    libs = prepared(LANGUAGETOOL_LIBS_ENV, "language-fr-*.jar")
    if libs is not None:
        return libs
    pom = languagetool_dir() / "pom.xml"
    return ensure_jars(
        pom,
        "languagetool",
        pom_property(pom, "languagetool.version"),
        "language-fr-*.jar",
        f"LanguageTool's French module once, or point {LANGUAGETOOL_LIBS_ENV} at a directory holding its jars",
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """What LanguageTool found in one text: its rule, its message, the words at fault and their sentence."""

    text_id: str
    rule: str
    category: str
    message: str
    offset: int
    length: int
    found: str
    sentence: str
    replacements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    version: str
    findings: tuple[Finding, ...]


# What LanguageTool must not read as French: web and email addresses, identifiers, the
# dotted paths of fields (« actions.0.title ») and domain names.
_NOT_FRENCH = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b[a-z_]+(?:\.[a-z0-9_]+)+\b"
)


def segments(text: str) -> list[dict[str, str]]:
    """`text` cut into the French to check and the markup to skip (identifiers, addresses).

    LanguageTool reads the text without its markup: the space before an
    identifier goes with it, or « l’adresse <a> est » would read as a double
    space and « par exemple <a>. » as a space before the full stop.
    """
    out: list[dict[str, str]] = []
    position = 0
    for match in _NOT_FRENCH.finditer(text):
        start = match.start()
        if start > position and text[start - 1] == " ":
            start -= 1
        if start > position:
            out.append({"text": text[position:start]})
        out.append({"markup": text[start : match.end()]})
        position = match.end()
    if position < len(text):
        out.append({"text": text[position:]})
    return out


def check(texts: Mapping[str, str], *, timeout_s: float = 600) -> Report:
    """Check French `texts` (id → text) with LanguageTool's French rules and its typographic ones.

    Identifiers and addresses in them are skipped (`segments`).
    """
    java = shutil.which("java")
    if java is None:
        raise ArtifactError("java not found: the French check runs LanguageTool on Java 17 or later")
    libs = ensure_languagetool_libs()
    program = languagetool_dir() / "FrenchCheck.java"
    result = subprocess.run(
        # A short run: the first compiler tier is enough, and one GC thread spares the machine's cores.
        [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", f"{libs}/*", str(program)],
        input=json.dumps([{"id": key, "segments": segments(text)} for key, text in texts.items()]),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"LanguageTool failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    data = json.loads(result.stdout)
    findings = tuple(
        Finding(
            text_id=f["id"],
            rule=f["rule"],
            category=f["category"],
            message=f["message"],
            offset=f["offset"],
            length=f["length"],
            found=f["found"],
            sentence=f["sentence"],
            replacements=tuple(f["replacements"]),
        )
        for f in data["findings"]
    )
    return Report(version=data["version"], findings=findings)
