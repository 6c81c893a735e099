"""Check every user-facing French text with LanguageTool (`make check-french`; also run by `make test`).

Prints each finding (the text, LanguageTool's rule and message, the sentence)
that the reviewed allowlist does not accept, and exits 1 if there is any, or
if an allowlist entry no longer matches anything (the list stays short and
true). The project adds one rule LanguageTool lacks: no plural in brackets
(« point(s) »).
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from palmares_stack.languagetool import Finding, check

from tools.french.texts import all_texts

ALLOWLIST = Path(__file__).with_name("allowlist.toml")

_PLURAL_IN_BRACKETS = re.compile(r"\w\(s\)|\w\(es\)|\w\(x\)")


@dataclass(frozen=True, slots=True)
class Allowed:
    """A finding accepted after review: its rule, the words it flags (a regular expression), where, and why."""

    rule: str
    found: str
    texts: str
    why: str

    def accepts(self, finding: Finding) -> bool:
        return (
            finding.rule == self.rule
            and re.fullmatch(self.found, finding.found) is not None
            and fnmatch(finding.text_id, self.texts)
        )


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    entries = tomllib.loads(path.read_text())["allow"]
    allowed = [Allowed(e["rule"], e["found"], e.get("texts", "*"), e["why"]) for e in entries]
    for entry in allowed:
        if not entry.why.strip():
            raise ValueError(f"allowlist entry {entry.rule} {entry.found!r} says not why")
    return allowed


def project_findings(texts: Mapping[str, str]) -> list[Finding]:
    """What the project checks besides LanguageTool: plurals in brackets."""
    found = []
    for text_id, text in texts.items():
        for match in _PLURAL_IN_BRACKETS.finditer(text):
            found.append(
                Finding(
                    text_id=text_id,
                    rule="PALMARES_PLURIEL_ENTRE_PARENTHESES",
                    category="PALMARES",
                    message="Accordez selon le nombre au lieu d’écrire le pluriel entre parenthèses.",
                    offset=match.start(),
                    length=match.end() - match.start(),
                    found=match.group(),
                    sentence=text[max(0, match.start() - 60) : match.end() + 60].replace("\n", " "),
                    replacements=(),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class Outcome:
    texts: int
    version: str
    findings: tuple[Finding, ...]  # everything found
    refused: tuple[Finding, ...]  # found and not allowed
    unused: tuple[Allowed, ...]  # allowlist entries that matched nothing
    seconds: float


def run(texts: Mapping[str, str] | None = None, allowlist: Sequence[Allowed] | None = None) -> Outcome:
    started = time.monotonic()
    texts = all_texts() if texts is None else texts
    allowed = load_allowlist() if allowlist is None else list(allowlist)
    report = check(texts)
    findings = (*report.findings, *project_findings(texts))
    refused = tuple(f for f in findings if not any(a.accepts(f) for a in allowed))
    unused = tuple(a for a in allowed if not any(a.accepts(f) for f in findings))
    return Outcome(len(texts), report.version, findings, refused, unused, time.monotonic() - started)


def describe(outcome: Outcome) -> str:
    lines = [
        f"LanguageTool {outcome.version}: {outcome.texts} texts checked in {outcome.seconds:.1f} s, "
        f"{len(outcome.findings)} findings, {len(outcome.findings) - len(outcome.refused)} allowed, "
        f"{len(outcome.refused)} to fix"
    ]
    by_rule = Counter(f.rule for f in outcome.refused)
    if by_rule:
        lines.append("by rule: " + ", ".join(f"{rule} {n}" for rule, n in by_rule.most_common()))
    for f in outcome.refused:
        lines.append(f"- [{f.text_id}] {f.rule}: {f.message}\n    « {f.found} » in: {f.sentence}")
        if f.replacements:
            lines.append(f"    suggested: {' | '.join(f.replacements)}")
    for a in outcome.unused:
        lines.append(f"- allowlist entry matches nothing (remove it): {a.rule} « {a.found} » ({a.texts})")
    return "\n".join(lines)


def main() -> int:
    outcome = run()
    print(describe(outcome))
    return 1 if outcome.refused or outcome.unused else 0


if __name__ == "__main__":
    sys.exit(main())
