"""Changelog of a grille version against the previous one: the machine-readable diff.

A grille's `changelog` lists every change of its services against the grille
it replaces (the previous edition, or the previous version of the same
edition). This module computes that list, so that a changelog is never written
by hand only: `diff(old, new) -> list[ChangelogEntry]`. It is used by
`palmares grille diff A B` and by `deploy/grilles/changelog.py` (the check and
rewrite tool of the grille files, a thin wrapper around this module).

Rules (see deploy/grilles/README.md):
- one entry per kind of change and per service; `removed` entries first (in the
  old grille's order), then the others in the new grille's order, and for one
  service: moved, reworded, reweighted, applicability;
- then the arobase thresholds (`thresholds` entries, naming no service): the
  general ones, then each category's own (`category`), when they changed;
- `reworded` covers the label and the description (the code is kept);
- a declared entry matches a computed one when change, service code and
  category are equal and its detail is the computed detail, optionally followed by
  " — " and a motif in French (the reason, for the humans who read it).

Other differences (mentions, enjeux, categories, title, deadline) are not
changelog entries; `other_differences` lists them as French notes.

Pure: the standard library, pydantic and `palmares_contracts` only (no typer,
no httpx), so the wrapper script runs from a checkout without the CLI's
dependencies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from palmares_contracts import Category, ChangeKind, ChangelogEntry, GrilleBody, GrilleService, Threshold

__all__ = [
    "MOTIF_SEPARATOR",
    "changed_services",
    "compare",
    "diff",
    "dump_grille",
    "entry_json",
    "load_grille",
    "merge_motifs",
    "other_differences",
]

MOTIF_SEPARATOR = " — "
KIND_LABELS = {Category.VILLAGE: "villages", Category.VILLE: "villes", Category.TERRITOIRE: "territoires"}
_ORDER = {
    ChangeKind.MOVED: 0,
    ChangeKind.REWORDED: 1,
    ChangeKind.REWEIGHTED: 2,
    ChangeKind.APPLICABILITY: 3,
}


def _weight(value: float) -> str:
    return f"{value:g}"


def _kinds(applies_to: Iterable[Category]) -> str:
    present = set(applies_to)
    return ", ".join(KIND_LABELS[kind] for kind in Category if kind in present) or "aucune catégorie"


def _service_changes(
    before: GrilleService, after: GrilleService, old_enjeux: dict[str, str], new_enjeux: dict[str, str]
) -> list[ChangelogEntry]:
    code = after.code
    found: list[ChangelogEntry] = []
    if before.enjeu != after.enjeu:
        found.append(
            ChangelogEntry(
                change=ChangeKind.MOVED,
                service_code=code,
                detail=f"enjeu « {old_enjeux.get(before.enjeu, before.enjeu)} » → "
                f"« {new_enjeux.get(after.enjeu, after.enjeu)} »",
            )
        )
    parts = []
    if before.label != after.label:
        parts.append(f"libellé : « {before.label} » → « {after.label} »")
    if before.description != after.description:
        parts.append("description révisée")
    if parts:
        found.append(ChangelogEntry(change=ChangeKind.REWORDED, service_code=code, detail=" ; ".join(parts)))
    if before.weight != after.weight:
        found.append(
            ChangelogEntry(
                change=ChangeKind.REWEIGHTED,
                service_code=code,
                detail=f"poids {_weight(before.weight)} → {_weight(after.weight)}",
            )
        )
    if set(before.applies_to) != set(after.applies_to):
        found.append(
            ChangelogEntry(
                change=ChangeKind.APPLICABILITY,
                service_code=code,
                detail=f"applicabilité : {_kinds(before.applies_to)} → {_kinds(after.applies_to)}",
            )
        )
    return sorted(found, key=lambda e: _ORDER[e.change])


def diff(old: GrilleBody, new: GrilleBody) -> list[ChangelogEntry]:
    """Every change of `new`'s services against `old`'s, in the canonical order (no motifs)."""
    old_by_code = {s.code: s for s in old.services}
    new_codes = {s.code for s in new.services}
    old_enjeux = {e.code: e.label for e in old.enjeux}
    new_enjeux = {e.code: e.label for e in new.enjeux}
    entries = [
        ChangelogEntry(change=ChangeKind.REMOVED, service_code=s.code, detail=f"retrait : « {s.label} »")
        for s in old.services
        if s.code not in new_codes
    ]
    for service in new.services:
        before = old_by_code.get(service.code)
        if before is None:
            entries.append(
                ChangelogEntry(
                    change=ChangeKind.ADDED,
                    service_code=service.code,
                    detail=f"ajout : « {service.label} » (enjeu « {new_enjeux.get(service.enjeu, service.enjeu)} », "
                    f"poids {_weight(service.weight)}, {_kinds(service.applies_to)})",
                )
            )
        else:
            entries.extend(_service_changes(before, service, old_enjeux, new_enjeux))
    return entries + _threshold_changes(old, new)


def _scale(thresholds: Sequence[Threshold] | None) -> str:
    """« 10 / 20 / 32 / 45 »: the minimum scores of 2 @ and above (1 @ is always 0)."""
    if thresholds is None:
        return "seuils généraux"
    levels = sorted(thresholds, key=lambda t: t.arobases)
    return " / ".join(_weight(t.min_score) for t in levels if t.arobases > 1)


def _own(grille: GrilleBody, category: Category) -> tuple[Threshold, ...] | None:
    return next((c.thresholds for c in grille.category_thresholds if c.category == category), None)


def _same(a: Sequence[Threshold] | None, b: Sequence[Threshold] | None) -> bool:
    if a is None or b is None:
        return a is b
    return sorted(a, key=lambda t: t.arobases) == sorted(b, key=lambda t: t.arobases)


def _threshold_changes(old: GrilleBody, new: GrilleBody) -> list[ChangelogEntry]:
    """The general thresholds, then each category's own (in the categories' order), when they changed."""
    entries = []
    if not _same(old.thresholds, new.thresholds):
        entries.append(
            ChangelogEntry(
                change=ChangeKind.THRESHOLDS,
                detail=f"seuils : {_scale(old.thresholds)} → {_scale(new.thresholds)}",
            )
        )
    for category in Category:
        before, after = _own(old, category), _own(new, category)
        if not _same(before, after):
            entries.append(
                ChangelogEntry(
                    change=ChangeKind.THRESHOLDS,
                    category=category,
                    detail=f"seuils des {KIND_LABELS[category]} : {_scale(before)} → {_scale(after)}",
                )
            )
    return entries


def entry_json(entry: ChangelogEntry) -> dict[str, Any]:
    """An entry as written in a grille file: without the fields it does not use."""
    return entry.model_dump(mode="json", exclude_none=True)


def _key(entry: ChangelogEntry) -> tuple[str, str, str]:
    return (entry.change.value, entry.service_code or "", entry.category.value if entry.category else "")


def _subject(entry: ChangelogEntry) -> str:
    if entry.service_code is not None:
        return entry.service_code
    return KIND_LABELS[entry.category] if entry.category else "général"


def changed_services(old: GrilleBody, new: GrilleBody) -> set[str]:
    """Codes of the services touched by at least one change (added, removed or modified)."""
    return {entry.service_code for entry in diff(old, new) if entry.service_code is not None}


def _matches(declared: ChangelogEntry, computed: ChangelogEntry) -> bool:
    return _key(declared) == _key(computed) and (
        declared.detail == computed.detail or declared.detail.startswith(computed.detail + MOTIF_SEPARATOR)
    )


def compare(declared: Sequence[ChangelogEntry], computed: Sequence[ChangelogEntry]) -> list[str]:
    """Problems of a declared changelog against the computed one (French); empty when they agree.

    Order does not matter; each computed entry must be declared exactly once.
    """
    problems: list[str] = []
    keys = [_key(e) for e in declared]
    for entry in declared:
        if keys.count(_key(entry)) > 1 and f"entrée en double : {entry.change.value} {_subject(entry)}" not in problems:
            problems.append(f"entrée en double : {entry.change.value} {_subject(entry)}")
    by_key = {_key(e): e for e in declared}
    expected = {_key(e): e for e in computed}
    for key, entry in expected.items():
        found = by_key.get(key)
        if found is None:
            problems.append(f"manquante : {entry.change.value} {_subject(entry)} ({entry.detail})")
        elif not _matches(found, entry):
            problems.append(
                f"détail différent pour {entry.change.value} {_subject(entry)} : "
                f"attendu « {entry.detail} », trouvé « {found.detail} »"
            )
    for key, entry in by_key.items():
        if key not in expected:
            problems.append(f"en trop : {entry.change.value} {_subject(entry)} ({entry.detail})")
    return problems


def merge_motifs(computed: Sequence[ChangelogEntry], declared: Sequence[ChangelogEntry]) -> list[ChangelogEntry]:
    """The computed entries, each keeping the motif and the cited theme of the matching declared entry if any."""
    declared_by_key = {_key(e): e for e in declared}
    merged = []
    for entry in computed:
        found = declared_by_key.get(_key(entry))
        if found is not None and found.detail.startswith(entry.detail + MOTIF_SEPARATOR):
            entry = entry.model_copy(update={"detail": found.detail})
        if found is not None and found.theme is not None:
            entry = entry.model_copy(update={"theme": found.theme})
        merged.append(entry)
    return merged


def other_differences(old: GrilleBody, new: GrilleBody) -> list[str]:
    """Differences that a service changelog cannot carry (French notes for the operator)."""
    notes = []
    if old.edition != new.edition:
        notes.append(f"édition {old.edition} → {new.edition}")
    if old.title != new.title:
        notes.append("titre modifié")
    if old.effective_deadline != new.effective_deadline:
        notes.append(f"date limite des dossiers {old.effective_deadline} → {new.effective_deadline}")
    if old.categories != new.categories:
        notes.append("catégories modifiées")
    if old.enjeux != new.enjeux:
        notes.append("enjeux modifiés")
    old_essentiels = {s.code for s in old.essentiels}
    new_essentiels = {s.code for s in new.essentiels}
    if old_essentiels != new_essentiels:
        changes = [f"+ {c}" for c in sorted(new_essentiels - old_essentiels)]
        changes += [f"− {c}" for c in sorted(old_essentiels - new_essentiels)]
        notes.append("services essentiels : " + ", ".join(changes))
    old_mentions = {m.code: m for m in old.mentions}
    new_mentions = {m.code: m for m in new.mentions}
    for code in sorted(old_mentions.keys() - new_mentions.keys()):
        notes.append(f"mention retirée : {code}")
    for code in sorted(new_mentions.keys() - old_mentions.keys()):
        notes.append(f"mention ajoutée : {code}")
    for code in sorted(old_mentions.keys() & new_mentions.keys()):
        if old_mentions[code] != new_mentions[code]:
            notes.append(f"règle de la mention {code} modifiée")
    return notes


def load_grille(path: str | Path) -> GrilleBody:
    """Read and validate a grille file (JSON, UTF-8)."""
    return GrilleBody.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _format(value: Any, indent: int = 0, width: int = 120) -> str:
    pad = "  " * indent
    if not isinstance(value, dict | list):
        return _json(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    children = list(value.values()) if isinstance(value, dict) else value
    if all(not isinstance(v, dict | list) for v in children):
        if isinstance(value, dict):
            inline = "{" + ", ".join(f"{_json(k)}: {_json(v)}" for k, v in value.items()) + "}"
        else:
            inline = "[" + ", ".join(_json(v) for v in value) + "]"
        if len(pad) + len(inline) <= width:
            return inline
    if isinstance(value, dict):
        items = [f"{pad}  {_json(k)}: {_format(v, indent + 1, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [f"{pad}  {_format(v, indent + 1, width)}" for v in value]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def dump_grille(data: dict[str, Any]) -> str:
    """The house JSON layout of a grille file: 2-space indent, short objects and lists on one line."""
    return _format(data) + "\n"
