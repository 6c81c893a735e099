"""`palmares grille calibrer`: jury decisions and dossiers in, thresholds and a report out (pure).

The cases come from an edition run by Palmarès (`--from-api`: each dossier's
score and the jury decisions recorded through the API), or from a file of
dossiers with the label's decisions:

- a label history with dossiers: `{"edition": N, "dossiers": [{"code", "name",
  "category", "jury": 5 | [2, 4], "actions": [API actions]}]}`;
- or a demo campaign (`deploy/demo/campaign-2017.json`): each collectivité's
  dossier (services from its themes, `deploy/demo/themes.json`), the category
  the label ranked it in (`expected.category_in_article`) and the article's
  arobases (`expected.arobases_in_article`, or the range
  `expected.arobases_range_in_article`).

Each dossier is scored by the real scoring code (`palmares_scoring.domain`)
under the grille; `palmares_scoring.calibration` fits the thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from palmares_contracts import Action, Category, ChangeKind, Grille, GrilleBody, Threshold
from palmares_scoring.calibration import Agreement, Calibration, Case, arobases_for
from palmares_scoring.domain import score_dossier

from palmares_cli.demo import action_body
from palmares_cli.errors import OperationFailed
from palmares_cli.grille_changelog import diff, entry_json


@dataclass(frozen=True, slots=True)
class Dossier:
    """A dossier of the file, scored: a case when the label decided its arobases."""

    code: str
    name: str
    category: Category
    score: float
    jury: tuple[int, int] | None

    def case(self) -> Case | None:
        if self.jury is None:
            return None
        return Case(
            code=self.code,
            name=self.name,
            category=self.category,
            score=self.score,
            low=self.jury[0],
            high=self.jury[1],
        )


def _jury(value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    raise OperationFailed(f"{where}: the jury's arobases are a number or a range [low, high], not {value!r}")


def _entries(data: Mapping[str, Any], themes: Mapping[str, list[str]] | None) -> list[dict[str, Any]]:
    """The file's dossiers as {code, name, category, jury, actions}, whichever of the two formats it is."""
    if isinstance(data.get("dossiers"), list):
        return [dict(d) for d in data["dossiers"]]
    if not isinstance(data.get("collectivites"), list):
        raise OperationFailed('expected {"dossiers": [...]} (label history) or {"collectivites": [...]} (campaign)')
    if themes is None:
        raise OperationFailed("a campaign file needs its themes mapping (--themes)")
    entries = []
    for c in data["collectivites"]:
        expected = c.get("expected") or {}
        exact = expected.get("arobases_in_article")
        entries.append(
            {
                "code": c["code"],
                "name": c.get("name", c["code"]),
                "category": expected.get("category_in_article"),
                "jury": exact if exact is not None else expected.get("arobases_range_in_article"),
                "actions": [action_body(a, themes) for a in c["dossier"]["actions"]],
            }
        )
    return entries


def scored_dossiers(
    data: Mapping[str, Any], grille: GrilleBody, themes: Mapping[str, list[str]] | None = None
) -> list[Dossier]:
    """Every dossier of the file scored under `grille` (its version does not matter to the score)."""
    published = grille if isinstance(grille, Grille) else Grille(**grille.model_dump(), version=1)
    dossiers = []
    for i, entry in enumerate(_entries(data, themes)):
        where = f"dossier {i} ({entry.get('code')})"
        try:
            category = Category(entry["category"])
            actions = [Action.model_validate(a) for a in entry["actions"]]
        except (KeyError, ValueError) as exc:
            raise OperationFailed(f"{where}: {exc}") from None
        result = score_dossier(actions, category, published)
        dossiers.append(
            Dossier(
                code=str(entry["code"]),
                name=str(entry.get("name") or entry["code"]),
                category=category,
                score=result.score,
                jury=_jury(entry.get("jury"), where),
            )
        )
    return dossiers


def _threshold_json(threshold: Threshold) -> dict[str, Any]:
    """As written by hand in a grille file: 10, not 10.0."""
    score = threshold.min_score
    return {"arobases": threshold.arobases, "min_score": int(score) if score.is_integer() else score}


def dossiers_from_evaluations(view: Mapping[str, Any], grille: GrilleBody, served: Mapping[str, Any]) -> list[Dossier]:
    """The dossiers of an edition run by Palmarès (`GET /v1/editions/{edition}/evaluations`), as scored there.

    The scores do not depend on the thresholds, but they do on the services,
    weights and applicability: the grille served (`served`) must be the file's
    but for its thresholds, and every score must be of its current version.
    """
    ignored = {"version", "thresholds", "category_thresholds", "changelog"}
    mine = grille.model_dump(mode="json", exclude=ignored)
    theirs = GrilleBody.model_validate({k: v for k, v in served.items() if k != "version"}).model_dump(
        mode="json", exclude=ignored
    )
    if mine != theirs:
        raise OperationFailed(
            f"the grille {grille.edition} served (version {served.get('version')}) differs from the file beyond its "
            "thresholds: its scores say nothing of the file's"
        )
    stale = [
        d["collectivite_code"]
        for d in view["dossiers"]
        if d.get("score") is not None and d.get("grille_version") != view.get("grille_version")
    ]
    if stale:
        raise OperationFailed(
            f"{len(stale)} dossier(s) not yet scored under the current grille: {', '.join(stale[:5])}"
        )
    return [
        Dossier(
            code=str(d["collectivite_code"]),
            name=str(d.get("name") or d["collectivite_code"]),
            category=Category(d["category"]),
            score=float(d["score"]),
            jury=_jury(d.get("jury_arobases"), str(d["collectivite_code"])),
        )
        for d in view["dossiers"]
        if d.get("score") is not None
    ]


def current_thresholds(grille: GrilleBody) -> dict[Category, tuple[Threshold, ...]]:
    return {c.category: c.thresholds for c in grille.category_thresholds}


def calibrated_grille(data: Mapping[str, Any], grille: GrilleBody, calibration: Calibration) -> dict[str, Any]:
    """The grille file with the calibrated thresholds, its changelog recording them.

    Earlier `thresholds` entries of the changelog are replaced by entries
    against the thresholds this version started from (the first side of an
    earlier entry, else the file's own before this calibration), so running the
    calibration twice does not stack entries.
    """
    new = dict(data)
    new["thresholds"] = [_threshold_json(t) for t in calibration.general]
    if calibration.per_category:
        new["category_thresholds"] = [
            {"category": c.value, "thresholds": [_threshold_json(t) for t in ts]}
            for c, ts in sorted(calibration.per_category.items(), key=lambda kv: list(Category).index(kv[0]))
        ]
    else:
        new.pop("category_thresholds", None)
    origin = _origin(grille)
    updated = GrilleBody.model_validate({**new, "changelog": []})
    kept = [e for e in grille.changelog if e.change is not ChangeKind.THRESHOLDS]
    thresholds = [e for e in diff(origin, updated) if e.change is ChangeKind.THRESHOLDS]
    new["changelog"] = [entry_json(e) for e in (*kept, *thresholds)]
    return new


def _origin(grille: GrilleBody) -> GrilleBody:
    """The grille as it was before any calibration recorded in its changelog."""
    general = list(grille.thresholds)
    for entry in grille.changelog:
        if entry.change is ChangeKind.THRESHOLDS and entry.category is None:
            before = entry.detail.split(" : ", 1)[1].split(" → ", 1)[0]
            minimums = [float(v) for v in before.split(" / ")]
            general = [Threshold(arobases=1, min_score=0)] + [
                Threshold(arobases=i + 2, min_score=m) for i, m in enumerate(minimums)
            ]
    # Categories' own thresholds before calibration: none were set by hand so far, so a
    # calibration that adds or changes them is recorded against the general ones.
    return grille.model_copy(update={"thresholds": tuple(general), "category_thresholds": ()})


# --- the report (Markdown, for docs/calibration.md and the terminal) -------------------------


def _scale(thresholds: Sequence[Threshold]) -> str:
    return " / ".join(f"{t.min_score:g}" for t in sorted(thresholds, key=lambda t: t.arobases) if t.arobases > 1)


def _rate(value: float) -> str:
    return f"{100 * value:.0f} %"


def _kappa(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"


def _matrix(agreement: Agreement) -> list[str]:
    lines = ["| jury ↓ / pré-notation → | 1 @ | 2 @ | 3 @ | 4 @ | 5 @ |", "|---|---|---|---|---|---|"]
    for level, row in enumerate(agreement.confusion, start=1):
        if any(row):
            lines.append(f"| {level} @ | " + " | ".join(str(n) if n else "·" for n in row) + " |")
    return lines


def report(
    calibration: Calibration,
    dossiers: Sequence[Dossier],
    grille: GrilleBody,
    *,
    source: str,
) -> str:
    """The calibration report in Markdown: thresholds, agreement before and after, every dossier."""
    before = current_thresholds(grille)
    cases = [d for d in dossiers if d.jury is not None]
    ranges = sum(1 for d in cases if d.jury is not None and d.jury[0] != d.jury[1])
    lines = [
        f"Edition {grille.edition}: {len(cases)} jury decisions ({len(cases) - ranges} exact, {ranges} ranges) "
        f"on {len(dossiers)} dossiers of {source}, scored under grille {grille.edition}.",
        "",
        "## Thresholds (minimum score of 2 @ / 3 @ / 4 @ / 5 @)",
        "",
        "| | before | after |",
        "|---|---|---|",
        f"| general | {_scale(grille.thresholds)} | {_scale(calibration.general)} |",
    ]
    for category in Category:
        if category in calibration.per_category or category in before:
            lines.append(
                f"| {category.value} | {_scale(before.get(category, grille.thresholds))} "
                f"| {_scale(calibration.thresholds_for(category))} |"
            )
    for category, why in calibration.unsupported.items():
        lines.append(f"| {category.value} | general | general ({why}) |")
    lines += [
        "",
        "## Agreement between pré-notation and jury",
        "",
        "| | cases | exact | within one | quadratic weighted kappa |",
        "|---|---|---|---|---|",
    ]
    for label, agreement in (("before", calibration.before), ("after", calibration.after)):
        lines.append(
            f"| {label} | {agreement.cases} | {_rate(agreement.exact)} | {_rate(agreement.within_one)} "
            f"| {_kappa(agreement.kappa)} |"
        )
    for category, after in calibration.after_by_category.items():
        was = calibration.before_by_category[category]
        lines.append(
            f"| {category.value}: before → after | {after.cases} | {_rate(was.exact)} → {_rate(after.exact)} "
            f"| {_rate(was.within_one)} → {_rate(after.within_one)} | {_kappa(was.kappa)} → {_kappa(after.kappa)} |"
        )
    lines += ["", "Confusion matrix before:", "", *_matrix(calibration.before)]
    lines += ["", "Confusion matrix after:", "", *_matrix(calibration.after)]
    lines += [
        "",
        "## Dossiers",
        "",
        "| collectivité | category | score | jury | pré-notation before | after |",
        "|---|---|---|---|---|---|",
    ]
    for d in sorted(dossiers, key=lambda d: (list(Category).index(d.category), -d.score, d.name)):
        jury = "-" if d.jury is None else f"{d.jury[0]} @" if d.jury[0] == d.jury[1] else f"{d.jury[0]}–{d.jury[1]} @"
        first = arobases_for(d.score, before.get(d.category, grille.thresholds))
        now = arobases_for(d.score, calibration.thresholds_for(d.category))
        lines.append(f"| {d.name} | {d.category.value} | {d.score:.1f} | {jury} | {first} @ | {now} @ |")
    return "\n".join(lines) + "\n"
