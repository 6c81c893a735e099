"""Precision and recall of the mention detector on the labelled dossiers of tests/eval/mentions/.

    python -m tools.mentions.evaluation [--set development|heldout] [--data DIR] [--grilles DIR] [--quiet]
    (from the repository root; `make eval-mentions` runs it)

Runs `domain.detect` on every labelled dossier, under the grille it is labelled
with and for its category, and prints for each set (development, then
held-out), per mention and overall, the true and false positives, the false
negatives, precision and recall; then the services suggested from the text
against the dossiers labelled for them; then every error with its evidence (a
false positive) or what was found instead (a false negative).

Targets: on the development set, precision ≥ 0.95 and recall ≥ 0.90 for every
mention; on the held-out set, precision ≥ 0.95 and recall ≥ 0.85 overall (a
held-out mention has 6 to 9 positives: one error moves its recall by 11 to 17
points); suggestions, precision ≥ 0.90 on each set. Exit status 1 when a
target is missed, 2 when the data cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from palmares_contracts import Action, Category, GrilleBody, Mention, MentionMiss, ServiceSuggestion
from palmares_mentions.domain import detect

from tools.mentions.repository import GRILLES_DIR, ROOT

DATA_DIR = ROOT / "tests" / "eval" / "mentions"
SETS = ("development", "heldout")


@dataclass(frozen=True)
class Targets:
    """What a set must reach: per mention (development) or overall (held-out)."""

    precision: float
    recall: float
    per_mention: bool
    suggestions_precision: float = 0.90


TARGETS = {
    "development": Targets(precision=0.95, recall=0.90, per_mention=True),
    "heldout": Targets(precision=0.95, recall=0.85, per_mention=False),
}
# The `grille` label of a dossier → the grille file it is evaluated under.
GRILLE_FILES = {"2017": "grille-2017.json", "2018": "grille-2018.json", "2018-v2": "grille-2018-v2.json"}
# An action without dates started in January 2016: it counts under every grille of the set.
DEFAULT_START = "2016-01-01"


@dataclass(frozen=True)
class LabelledDossier:
    """A dossier of the evaluation set, the mentions a careful jury gives it, and the services to suggest."""

    id: str
    source: str  # the file it comes from
    grille: str
    category: Category
    actions: tuple[Action, ...]
    narrative: str
    expected: frozenset[str]
    note: str = ""
    # (action title, service code) a careful reader would suggest declaring; None: not labelled for suggestions.
    suggested: frozenset[tuple[str, str]] | None = None


@dataclass
class Score:
    """Counts of one mention (or of all of them, or of the suggestions) over a set."""

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

    def add(self, predicted: bool, expected: bool) -> None:
        self.true_positives += predicted and expected
        self.false_positives += predicted and not expected
        self.false_negatives += expected and not predicted


@dataclass(frozen=True)
class Error:
    """A wrong decision on one mention (or one suggested service) of one dossier."""

    dossier: LabelledDossier
    code: str
    false_positive: bool
    mention: Mention | None = None
    miss: MentionMiss | None = None
    suggestion: ServiceSuggestion | None = None
    service: bool = False  # a suggested service (code is a service code), not a mention


@dataclass
class Report:
    """The evaluation of the detector on one set: scores per mention, overall, suggestions, errors."""

    name: str = "set"
    targets: Targets = TARGETS["development"]
    scores: dict[str, Score] = field(default_factory=dict)
    by_file: dict[str, Score] = field(default_factory=dict)  # all mentions together, per file of the set
    suggestions: Score = field(default_factory=Score)
    suggestion_dossiers: int = 0
    errors: list[Error] = field(default_factory=list)
    dossiers: int = 0

    @property
    def overall(self) -> Score:
        return Score(
            sum(s.true_positives for s in self.scores.values()),
            sum(s.false_positives for s in self.scores.values()),
            sum(s.false_negatives for s in self.scores.values()),
        )

    def meets(self, score: Score) -> bool:
        return score.precision >= self.targets.precision and score.recall >= self.targets.recall

    @property
    def failing(self) -> list[str]:
        """What misses its target: mention codes, « (overall) », « (suggestions) »."""
        failing = [c for c, s in self.scores.items() if not self.meets(s)] if self.targets.per_mention else []
        if not self.targets.per_mention and not self.meets(self.overall):
            failing.append("(overall)")
        if self.suggestions.precision < self.targets.suggestions_precision:
            failing.append("(suggestions)")
        return failing


def load_grilles(directory: Path = GRILLES_DIR) -> dict[str, GrilleBody]:
    """The grilles the dossiers are labelled under, by label."""
    return {
        name: GrilleBody.model_validate_json((directory / file).read_text(encoding="utf-8"))
        for name, file in GRILLE_FILES.items()
    }


def _action(item: dict[str, object]) -> Action:
    ended = item.get("ended_on")
    return Action(
        title=str(item["title"]),
        description=str(item.get("description", "")),
        services=tuple(item.get("services", ())),  # type: ignore[arg-type]
        started_on=date.fromisoformat(str(item.get("started_on", DEFAULT_START))),
        ended_on=date.fromisoformat(str(ended)) if ended else None,
    )


def load_dossiers(directory: Path) -> list[LabelledDossier]:
    """Every labelled dossier of the JSON files of `directory` (see its README for the format)."""
    dossiers = []
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise ValueError(f"no labelled dossiers (*.json) in {directory}")
    for path in paths:
        for item in json.loads(path.read_text(encoding="utf-8")):
            suggested = item.get("suggested")
            dossiers.append(
                LabelledDossier(
                    id=item["id"],
                    source=path.name,
                    grille=item["grille"],
                    category=Category(item["category"]),
                    actions=tuple(_action(a) for a in item["actions"]),
                    narrative=item.get("narrative", ""),
                    expected=frozenset(item["expected"]),
                    note=item.get("note", ""),
                    suggested=None if suggested is None else frozenset((s["action"], s["service"]) for s in suggested),
                )
            )
    ids = [d.id for d in dossiers]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate dossier ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return dossiers


def evaluate(dossiers: Sequence[LabelledDossier], grilles: dict[str, GrilleBody], name: str = "development") -> Report:
    """Run the detector on every dossier and compare with its labels, mention by mention and service by service."""
    report = Report(name=name, targets=TARGETS.get(name, TARGETS["development"]), dossiers=len(dossiers))
    for dossier in dossiers:
        grille = grilles[dossier.grille]
        codes = [rule.code for rule in grille.mentions]
        unknown = dossier.expected - set(codes)
        if unknown:
            raise ValueError(f"{dossier.id}: mentions {sorted(unknown)} are not in grille {dossier.grille}")
        detection = detect(dossier.actions, dossier.narrative, grille, dossier.category)
        found = {m.code: m for m in detection.mentions}
        misses = {m.code: m for m in detection.missed}
        for code in codes:
            predicted, expected = code in found, code in dossier.expected
            report.scores.setdefault(code, Score()).add(predicted, expected)
            report.by_file.setdefault(dossier.source, Score()).add(predicted, expected)
            if predicted and not expected:
                report.errors.append(Error(dossier, code, True, mention=found[code]))
            elif expected and not predicted:
                report.errors.append(Error(dossier, code, False, miss=misses.get(code)))
        if dossier.suggested is not None:
            _evaluate_suggestions(report, dossier, detection.suggestions)
    return report


def _evaluate_suggestions(report: Report, dossier: LabelledDossier, made: Sequence[ServiceSuggestion]) -> None:
    """A suggestion is right when its (action, service) is labelled; a labelled service is found by any of its actions."""
    assert dossier.suggested is not None
    report.suggestion_dossiers += 1
    right = {s.service_code for s in made if (s.action_title, s.service_code) in dossier.suggested}
    for suggestion in made:
        correct = suggestion.service_code in right
        report.suggestions.add(True, correct)
        if not correct:
            report.errors.append(Error(dossier, suggestion.service_code, True, suggestion=suggestion, service=True))
    for code in sorted({code for _, code in dossier.suggested} - right):
        report.suggestions.add(False, True)
        report.errors.append(Error(dossier, code, False, service=True))


def _describe(error: Error) -> list[str]:
    kind = "faux positif" if error.false_positive else "faux négatif"
    label = f"{error.code}{' (service suggéré)' if error.service else ''}"
    lines = [f"- {error.dossier.id} [{error.dossier.grille}, {error.dossier.source}] {label}: {kind}"]
    if error.mention is not None:
        for ev in error.mention.evidence:
            where = ev.action_title or "récit"
            found = ", ".join(ev.matched_terms + ev.service_codes)
            lines.append(f"    preuve ({where}) [{found}] {ev.snippet}")
    if error.suggestion is not None:
        s = error.suggestion
        lines.append(f"    suggéré ({s.action_title}) [{', '.join(s.matched_terms)}] {s.snippet}")
    if error.miss is not None:
        lines.append(f"    manqué : {error.miss.lacking}")
    if error.dossier.note:
        lines.append(f"    étiquette : {error.dossier.note}")
    return lines


def _row(name: str, s: Score, flag: str = "") -> str:
    return (
        f"{name:<28}{s.true_positives:>5}{s.false_positives:>5}{s.false_negatives:>5}"
        f"{s.precision:>11.3f}{s.recall:>8.3f}{flag}"
    )


def format_report(report: Report) -> str:
    """The report as printed: one line per mention, overall, per file, suggestions, then the errors."""
    t = report.targets
    scope = "every mention" if t.per_mention else "overall"
    below = "  ← below target"
    header = f"{'mention':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"
    lines = [
        f"{report.name} set: {report.dossiers} dossiers — targets ({scope}): precision ≥ {t.precision}, "
        f"recall ≥ {t.recall}",
        "",
        header,
    ]
    for code, s in sorted(report.scores.items()):
        lines.append(_row(code, s, below if t.per_mention and not report.meets(s) else ""))
    overall = report.overall
    lines.append(_row("(overall, micro)", overall, below if not t.per_mention and not report.meets(overall) else ""))
    lines += ["", f"{'file (all mentions)':<28}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"]
    lines += [_row(name, s) for name, s in sorted(report.by_file.items())]
    s = report.suggestions
    flag = below if s.precision < t.suggestions_precision else ""
    lines += [
        "",
        f"suggested services ({report.suggestion_dossiers} dossiers labelled; target: precision ≥ "
        f"{t.suggestions_precision})",
        _row("(suggestions)", s, flag),
    ]
    if report.errors:
        lines += ["", f"{len(report.errors)} error(s):"]
        for error in sorted(report.errors, key=lambda e: (e.service, e.code, e.dossier.id)):
            lines += _describe(error)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Precision and recall of the mention detector.")
    parser.add_argument("--set", choices=SETS, action="append", help="a set of the repository (default: both)")
    parser.add_argument(
        "--data", type=Path, help="another folder of labelled dossiers (*.json), with the development targets"
    )
    parser.add_argument("--grilles", type=Path, default=GRILLES_DIR, help="folder of the grille files")
    parser.add_argument("--quiet", action="store_true", help="print the tables only, not the errors")
    args = parser.parse_args(argv)
    folders = [("development", args.data)] if args.data else [(name, DATA_DIR / name) for name in args.set or SETS]
    try:
        grilles = load_grilles(args.grilles)
        reports = [evaluate(load_dossiers(folder), grilles, name) for name, folder in folders]
    except (OSError, ValueError, KeyError) as exc:
        print(f"évaluation impossible : {exc}", file=sys.stderr)
        return 2
    for report in reports:
        if args.quiet:
            report.errors = []
    print("\n\n".join(format_report(r) for r in reports))
    return 1 if any(r.failing for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
