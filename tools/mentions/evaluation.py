"""Precision and recall of the mention detector on the labelled dossiers of tests/eval/mentions/.

    python -m tools.mentions.evaluation [--data DIR] [--grilles DIR] [--quiet]    (from the repository root)

Runs `domain.detect` on every labelled dossier under the grille it is labelled
with, and prints, per mention and overall, the true and false positives, the
false negatives, precision and recall, then every error with its evidence (a
false positive) or what was found instead (a false negative). Exit status 1 when
a mention is below precision 0.95 or recall 0.90, 2 when the data cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from palmares_contracts import Action, GrilleBody, Mention, MentionMiss
from palmares_mentions.domain import detect

from tools.mentions.repository import GRILLES_DIR, ROOT

MIN_PRECISION = 0.95
MIN_RECALL = 0.90
DATA_DIR = ROOT / "tests" / "eval" / "mentions"
# The `grille` label of a dossier → the grille file it is evaluated under.
GRILLE_FILES = {"2017": "grille-2017.json", "2018": "grille-2018.json", "2018-v2": "grille-2018-v2.json"}


@dataclass(frozen=True)
class LabelledDossier:
    """A dossier of the evaluation set and the mentions a careful jury gives it."""

    id: str
    source: str  # the file it comes from
    grille: str
    actions: tuple[Action, ...]
    narrative: str
    expected: frozenset[str]
    note: str = ""


@dataclass
class Score:
    """Counts of one mention over the evaluation set."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positives + self.false_negatives
        return self.true_positives / relevant if relevant else 1.0

    @property
    def meets_targets(self) -> bool:
        return self.precision >= MIN_PRECISION and self.recall >= MIN_RECALL


@dataclass(frozen=True)
class Error:
    """A wrong decision on one mention of one dossier."""

    dossier: LabelledDossier
    code: str
    false_positive: bool
    mention: Mention | None = None
    miss: MentionMiss | None = None


@dataclass
class Report:
    """The evaluation of the detector: scores per mention, overall, and the errors."""

    scores: dict[str, Score] = field(default_factory=dict)
    by_file: dict[str, Score] = field(default_factory=dict)  # all mentions together, per file of the set
    errors: list[Error] = field(default_factory=list)
    dossiers: int = 0

    @property
    def overall(self) -> Score:
        return Score(
            sum(s.true_positives for s in self.scores.values()),
            sum(s.false_positives for s in self.scores.values()),
            sum(s.false_negatives for s in self.scores.values()),
        )

    @property
    def failing(self) -> list[str]:
        return [code for code, score in self.scores.items() if not score.meets_targets]


def load_grilles(directory: Path = GRILLES_DIR) -> dict[str, GrilleBody]:
    """The grilles the dossiers are labelled under, by label."""
    return {
        name: GrilleBody.model_validate_json((directory / file).read_text(encoding="utf-8"))
        for name, file in GRILLE_FILES.items()
    }


def load_dossiers(directory: Path = DATA_DIR) -> list[LabelledDossier]:
    """Every labelled dossier of the JSON files of `directory` (see its README for the format)."""
    dossiers = []
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise ValueError(f"no labelled dossiers (*.json) in {directory}")
    for path in paths:
        for item in json.loads(path.read_text(encoding="utf-8")):
            actions = tuple(
                Action(
                    title=a["title"],
                    description=a.get("description", ""),
                    services=tuple(a.get("services", ())),
                    started_on=date.fromisoformat(a.get("started_on", "2016-01-01")),
                )
                for a in item["actions"]
            )
            dossiers.append(
                LabelledDossier(
                    id=item["id"],
                    source=path.name,
                    grille=item["grille"],
                    actions=actions,
                    narrative=item.get("narrative", ""),
                    expected=frozenset(item["expected"]),
                    note=item.get("note", ""),
                )
            )
    ids = [d.id for d in dossiers]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate dossier ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return dossiers


def evaluate(dossiers: Sequence[LabelledDossier], grilles: dict[str, GrilleBody]) -> Report:
    """Run the detector on every dossier and compare with its labels, mention by mention."""
    report = Report(dossiers=len(dossiers))
    for dossier in dossiers:
        grille = grilles[dossier.grille]
        codes = [rule.code for rule in grille.mentions]
        unknown = dossier.expected - set(codes)
        if unknown:
            raise ValueError(f"{dossier.id}: mentions {sorted(unknown)} are not in grille {dossier.grille}")
        mentions, missed = detect(dossier.actions, dossier.narrative, grille.mentions)
        found = {m.code: m for m in mentions}
        misses = {m.code: m for m in missed}
        for code in codes:
            for score in (report.scores.setdefault(code, Score()), report.by_file.setdefault(dossier.source, Score())):
                if code in found and code in dossier.expected:
                    score.true_positives += 1
                elif code in found:
                    score.false_positives += 1
                elif code in dossier.expected:
                    score.false_negatives += 1
            if code in found and code not in dossier.expected:
                report.errors.append(Error(dossier, code, True, mention=found[code]))
            elif code in dossier.expected and code not in found:
                report.errors.append(Error(dossier, code, False, miss=misses.get(code)))
    return report


def _describe(error: Error) -> list[str]:
    kind = "faux positif" if error.false_positive else "faux négatif"
    lines = [f"- {error.dossier.id} [{error.dossier.grille}, {error.dossier.source}] {error.code}: {kind}"]
    if error.mention is not None:
        for ev in error.mention.evidence:
            where = ev.action_title or "récit"
            what = ", ".join(ev.matched_terms or ev.service_codes)
            lines.append(f"    preuve ({where}) [{what}] {ev.snippet}")
    if error.miss is not None:
        lines.append(f"    manqué : {error.miss.lacking}")
    if error.dossier.note:
        lines.append(f"    étiquette : {error.dossier.note}")
    return lines


def format_report(report: Report) -> str:
    """The report as printed: one line per mention, overall, then the errors."""
    lines = [
        f"{report.dossiers} dossiers — targets: precision ≥ {MIN_PRECISION}, recall ≥ {MIN_RECALL}",
        "",
        f"{'mention':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}",
    ]
    rows = [*sorted(report.scores.items()), ("(overall, micro)", report.overall)]
    for code, s in rows:
        flag = "" if s.meets_targets or code.startswith("(") else "  ← below target"
        lines.append(
            f"{code:<28}{s.true_positives:>5}{s.false_positives:>5}{s.false_negatives:>5}"
            f"{s.precision:>11.3f}{s.recall:>8.3f}{flag}"
        )
    lines += ["", f"{'file (all mentions)':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"]
    for name, s in sorted(report.by_file.items()):
        lines.append(
            f"{name:<28}{s.true_positives:>5}{s.false_positives:>5}{s.false_negatives:>5}"
            f"{s.precision:>11.3f}{s.recall:>8.3f}"
        )
    if report.errors:
        lines += ["", f"{len(report.errors)} error(s):"]
        for error in sorted(report.errors, key=lambda e: (e.code, e.dossier.id)):
            lines += _describe(error)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Precision and recall of the mention detector.")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of the labelled dossiers (*.json)")
    parser.add_argument("--grilles", type=Path, default=GRILLES_DIR, help="folder of the grille files")
    parser.add_argument("--quiet", action="store_true", help="print the table only, not the errors")
    args = parser.parse_args(argv)
    try:
        report = evaluate(load_dossiers(args.data), load_grilles(args.grilles))
    except (OSError, ValueError, KeyError) as exc:
        print(f"évaluation impossible : {exc}", file=sys.stderr)
        return 2
    if args.quiet:
        report.errors = []
    print(format_report(report))
    return 1 if report.failing else 0


if __name__ == "__main__":
    sys.exit(main())
