"""Human renderings of the API's answers (pure: data in, text or rich tables out).

English words frame the output (operators read it); the API's French content
(labels, reasons, comments) is shown verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table


def _arobases(n: Any) -> str:
    return f"{n} @" if isinstance(n, int) else "-"


def _score(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, (int, float)) else "-"


def mention_labels(view: Mapping[str, Any]) -> list[str]:
    mentions = view.get("mentions") or []
    return [str(m.get("label") or m.get("code")) for m in mentions if isinstance(m, dict)]


def status_lines(view: Mapping[str, Any]) -> list[str]:
    """`palmares status`: what an operator needs to answer a collectivité's question."""
    lines = [
        f"Dossier {view.get('submission_id')}  (collectivité {view.get('collectivite_code')}, "
        f"edition {view.get('edition')}, revision {view.get('revision')})",
        f"  status         {view.get('status')}",
    ]
    if view.get("score") is None:
        lines.append("  score          not yet computed")
    else:
        lines.append(f"  score          {_score(view.get('score'))} / 100 (grille v{view.get('grille_version')})")
        lines.append(f"  arobases       {_arobases(view.get('arobases'))} (pré-notation)")
    jury = view.get("jury")
    if isinstance(jury, dict):
        comment = f" — {jury['comment']}" if jury.get("comment") else ""
        lines.append(f"  jury           {_arobases(jury.get('arobases'))}{comment} (by {jury.get('decided_by')})")
    mentions = view.get("mentions")
    if mentions is None:
        lines.append("  mentions       not yet detected")
    else:
        lines.append(f"  mentions       {', '.join(mention_labels(view)) or 'none'}")
    explanation = view.get("explanation") or {}
    for ignored in explanation.get("ignored_actions") or []:
        lines.append(f"  ignored        « {ignored.get('title')} »: {ignored.get('reason')}")
    nxt = explanation.get("next_level")
    if isinstance(nxt, dict):
        suggested = ", ".join(nxt.get("suggested_services") or []) or "-"
        lines.append(
            f"  next level     {_arobases(nxt.get('target_arobases'))}: {nxt.get('points_missing')} points missing; "
            f"suggested services: {suggested}"
        )
    notes = view.get("notifications") or []
    if not notes:
        lines.append("  notifications  none yet")
    for i, n in enumerate(notes):
        head = "  notifications  " if i == 0 else "                 "
        reason = f" — {n['reason']}" if n.get("reason") else ""
        lines.append(f"{head}{n.get('kind')} {n.get('status')} to {n.get('to')} at {n.get('at')}{reason}")
    return lines


def grille_lines(grille: Mapping[str, Any]) -> list[str]:
    """`palmares grille show`: the shape of a grille, not its 138 services."""
    thresholds = sorted(grille.get("thresholds") or [], key=lambda t: t.get("arobases", 0))
    lines = [
        f"Grille {grille.get('edition')} version {grille.get('version')}: {grille.get('title') or '(untitled)'}",
        f"  deadline       {grille.get('deadline') or 'default (30 November of the year before)'}",
        f"  categories     {len(grille.get('categories') or [])}",
        f"  enjeux         {len(grille.get('enjeux') or [])}",
        f"  services       {len(grille.get('services') or [])}",
        "  thresholds     " + ", ".join(f"{t.get('arobases')} @ ≥ {t.get('min_score')}" for t in thresholds),
        "  mentions       " + (", ".join(str(m.get("code")) for m in grille.get("mentions") or []) or "none"),
        f"  changelog      {len(grille.get('changelog') or [])} entr(ies)",
    ]
    return lines


def palmares_tables(palmares: Mapping[str, Any]) -> tuple[str, list[Table]]:
    """`palmares palmares show`: a heading and one table per category (Villages, Villes, Territoires)."""
    ceremony = palmares.get("ceremony") or {}
    where = f", ceremony {ceremony.get('place')} on {ceremony.get('date')}" if ceremony else ""
    heading = f"Palmarès {palmares.get('edition')} published {palmares.get('published_at')}{where}"
    tables = []
    for key, title in (("villages", "Villages"), ("villes", "Villes"), ("territoires", "Territoires")):
        table = Table(title=f"{title} ({len(palmares.get(key) or [])})", title_justify="left")
        for column in ("collectivité", "code", "arobases", "pré-notation", "mentions"):
            table.add_column(column)
        for entry in palmares.get(key) or []:
            table.add_row(
                str(entry.get("name")),
                str(entry.get("collectivite_code")),
                "@" * int(entry.get("arobases") or 0),
                _arobases(entry.get("pre_notation")),
                ", ".join(entry.get("mentions") or []),
            )
        tables.append(table)
    return heading, tables


def results_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """The demo's closing table: one row per collectivité, the pré-notation and the jury side by side.

    The last of the three arobase columns is what the 2017 press article says
    (the jury's by default): the pré-notation is within one arobase of it.
    """
    table = Table(title="Demo campaign", title_justify="left")
    # Numbers and statuses never wrap (a number cut in two misreads); names and mentions may.
    table.add_column("collectivité", min_width=16)
    table.add_column("category", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("pré-notation", justify="right", no_wrap=True)
    table.add_column("jury", justify="right", no_wrap=True)
    table.add_column("article", justify="right", no_wrap=True)
    table.add_column("mentions")
    table.add_column("status", no_wrap=True)
    for row in rows:
        table.add_row(
            f"{row.get('name')} ({row.get('code')})",
            str(row.get("category") or "-"),
            _score(row.get("score")),
            _arobases(row.get("arobases")),
            _arobases(row.get("jury_arobases")),
            str(row.get("article") or "-"),
            ", ".join(row.get("mentions") or []) or "-",
            str(row.get("status") or "-"),
        )
    return table
