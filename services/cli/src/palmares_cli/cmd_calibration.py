"""`palmares grille calibrer EDITION`: fit the grille's arobase thresholds to the jury's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from palmares_scoring.calibration import MIN_CASES_PER_CATEGORY, calibrate

from palmares_cli import output
from palmares_cli.calibration import (
    calibrated_grille,
    current_thresholds,
    dossiers_from_evaluations,
    report,
    scored_dossiers,
)
from palmares_cli.context import JsonOption, command, state, wants_json
from palmares_cli.demo import DEFAULT_CAMPAIGN, DEFAULT_THEMES, load_themes
from palmares_cli.errors import UsageProblem
from palmares_cli.files import load_grille, locate, read_object
from palmares_cli.grille_changelog import dump_grille


@command
def grille_calibrer(
    ctx: typer.Context,
    edition: Annotated[int, typer.Argument(help="Edition, e.g. 2017.")],
    from_api: Annotated[
        bool,
        typer.Option(
            "--from-api", help="The edition's dossiers and jury decisions as recorded by Palmarès (operator token)."
        ),
    ] = False,
    dossiers: Annotated[
        Path | None,
        typer.Option(
            help="Dossiers with the label's decisions: a label history or a campaign file "
            f"\\[default for 2017: {DEFAULT_CAMPAIGN}].",
            dir_okay=False,
        ),
    ] = None,
    grille: Annotated[
        Path | None,
        typer.Option(help="Grille file \\[default: deploy/grilles/grille-EDITION.json].", dir_okay=False),
    ] = None,
    themes: Annotated[
        Path | None,
        typer.Option(
            help=f"Themes → service codes, for a campaign file \\[default: {DEFAULT_THEMES}].", dir_okay=False
        ),
    ] = None,
    min_cases: Annotated[
        int, typer.Option(min=2, help="Decisions a category needs for thresholds of its own.")
    ] = MIN_CASES_PER_CATEGORY,
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite the grille file with the calibrated thresholds and changelog.")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Also write the Markdown report to this file.", dir_okay=False)
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Fit the arobase thresholds to the jury and report the agreement before and after."""
    grille_path = grille or locate(Path(f"deploy/grilles/grille-{edition}.json"))
    if from_api and dossiers is not None:
        raise UsageProblem("--from-api or --dossiers, not both")
    if not from_api and dossiers is None and edition != 2017:
        raise UsageProblem("--dossiers or --from-api is needed: only the 2017 demo campaign is a default")
    data, body = load_grille(grille_path)
    if body.edition != edition:
        raise UsageProblem(f"{grille_path} is the grille of {body.edition}, not {edition}")
    if from_api:
        with state(ctx).api() as api:
            scored = dossiers_from_evaluations(api.evaluations(edition), body, api.grille(edition))
        source = f"the dossiers of edition {edition} recorded by Palmarès"
    else:
        dossiers_path = dossiers or locate(DEFAULT_CAMPAIGN)
        history = read_object(dossiers_path, "dossiers")
        mapping = load_themes(themes or locate(DEFAULT_THEMES)) if "collectivites" in history else None
        scored = scored_dossiers(history, body, mapping)
        source = str(dossiers_path)
    cases = [c for c in (d.case() for d in scored) if c is not None]
    if not cases:
        raise UsageProblem(f"{source}: no dossier carries a jury decision")
    result = calibrate(cases, body.thresholds, current_thresholds(body), min_cases=min_cases)
    text = report(result, scored, body, source=source)
    if report_file is not None:
        report_file.write_text(text, encoding="utf-8")
    if write:
        grille_path.write_text(dump_grille(calibrated_grille(data, body, result)), encoding="utf-8")
        output.info(f"{grille_path}: thresholds calibrated, changelog updated.")
    if wants_json(ctx, json_out):
        output.emit_json(
            {
                "edition": edition,
                "cases": len(cases),
                "thresholds": {
                    "before": [t.model_dump(mode="json") for t in body.thresholds],
                    "after": [t.model_dump(mode="json") for t in result.general],
                    "per_category": {
                        c.value: [t.model_dump(mode="json") for t in ts] for c, ts in result.per_category.items()
                    },
                },
                "unsupported": {c.value: why for c, why in result.unsupported.items()},
                "agreement": {
                    label: {
                        "exact": a.exact,
                        "within_one": a.within_one,
                        "kappa": a.kappa,
                        "confusion": [list(row) for row in a.confusion],
                    }
                    for label, a in (("before", result.before), ("after", result.after))
                },
            }
        )
    else:
        output.stdout.print(text, markup=False, highlight=False)
