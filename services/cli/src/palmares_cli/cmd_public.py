"""The comité's and the public's reports: the grille's tendances, the observatoire."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from palmares_cli import output
from palmares_cli.context import EditionArgument, JsonOption, command, emit, state


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %"


def tendances_lines(found: dict[str, Any]) -> list[str]:
    """The report as the comité reads it (also the source of the next grille's « added » entries)."""
    lines = [
        f"Tendances {found['edition']} (grille version {found['grille_version']}): "
        f"{found['undescribed']} of {found['actions']} actions in {found['dossiers']} dossiers match no service."
    ]
    for i, theme in enumerate(found["themes"], start=1):
        categories = ", ".join(f"{k} {v}" for k, v in sorted(theme["categories"].items()))
        lines.append(
            f"{i}. « {theme['label']} »: {theme['actions']} actions, {theme['dossiers']} dossiers "
            f"({_percent(theme['share_of_dossiers'])}); {categories}"
        )
        lines += [f"     - {e['title']} ({e['collectivite']})" for e in theme["examples"]]
        lines += [
            f"     cited by grille {found['edition'] + 1}'s added service {s['code']}: {s['label']}"
            for s in theme.get("cited_by", [])
        ]
    undeclared = found["undeclared_services"]
    lines.append(f"Services declared by no dossier: {len(undeclared)}")
    lines += [f"  {s['code']}: {s['label']}" for s in undeclared]
    return lines


@command
def grille_tendances(
    ctx: typer.Context,
    edition: EditionArgument,
    min_dossiers: Annotated[int, typer.Option(help="Dossiers that must share a theme's words.")] = 2,
    text_only: Annotated[
        bool, typer.Option("--text-only", help="Declared services do not count: only the actions' words.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Themes of the actions no service of the grille describes, and the services nobody declared (operators)."""
    with state(ctx).api() as api:
        found = api.tendances(edition, min_dossiers, text_only)
    emit(ctx, json_out, found, lambda: output.print_lines(tendances_lines(found)))


def _share(rate: float | None) -> str:
    return _percent(rate) if rate is not None else "—"


def observatoire_lines(found: dict[str, Any]) -> list[str]:
    coverage = found.get("coverage") or {}
    covered = {c["key"]: c for c in [*coverage.get("rows", []), *([coverage["total"]] if coverage else [])]}
    lines = [f"Observatoire {found['edition']} by {found['by']}:"]
    lines.append(
        f"{'':32} {'collectivités':>13} {'participants':>12} {'labelled':>9} {'per 100':>8} {'mean @':>7} "
        f"{'essentials':>10}"
    )
    for row in [*found["rows"], found["total"]]:
        mean = row["mean_arobases"]
        essentials = covered.get(row.get("key", ""), {}).get("essentiels_rate")
        lines.append(
            f"{row['label'][:32]:32} {row['collectivites']:>13} {row['participants']:>12} {row['labelled']:>9} "
            f"{row['labelled_per_100']:>8.2f} {mean if mean is not None else '—':>7} {_share(essentials):>10}"
        )
    largest = found.get("largest_inequality")
    if largest:
        lines.append(f"Largest inequality across départements: {largest['label']} (Gini {largest['gini']:.3f})")
    if coverage.get("essentiels"):
        inequality = coverage["inequality"]
        lines.append(
            f"Essential services, least available first (share of the participants they apply to; "
            f"coverage {_share(coverage['total']['essentiels_rate'])}, across {inequality['departements']} "
            f"départements Gini {inequality['gini']:.3f}, Theil {inequality['theil']:.3f}):"
        )
        for e in coverage["essentiels"]:
            lowest = ", ".join(f"{p['label']} {_percent(p['rate'])}" for p in e["lowest"])
            lines.append(
                f"  {e['label'][:48]:48} {e['covered']:>6} of {e['applicable']:<6} {_share(e['rate']):>8}"
                f"  lowest: {lowest or '—'}"
            )
    return lines


@command
def observatoire(
    ctx: typer.Context,
    edition: EditionArgument,
    by: Annotated[str, typer.Option(help="region, departement, population, kind or territoire.")] = "region",
    json_out: JsonOption = False,
) -> None:
    """The observatoire des inégalités numériques of a published edition (public)."""
    with state(ctx).api(operator=False) as api:
        found = api.observatoire(edition, by)
    emit(ctx, json_out, found, lambda: output.print_lines(observatoire_lines(found)))
