"""The jury's decision on a dossier (pure): the revision it examined and the mentions it grants.

The jury confirms, removes or adds mentions: the codes it keeps become the
dossier's mentions (JuryDecided version 2). A detected mention it confirms
keeps its evidence; a mention it adds has none (the jury's judgment is the
evidence). `None` means the jury did not rule on mentions: the detected ones
stand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from palmares_contracts import Mention, MentionRule

from palmares_submission.domain.errors import Invalid

MAX_MENTIONS = 50


def signer(member: str | None, declared: str | None) -> str:
    """Who signs a decision: the jury member who records it, else the name the operator gives (required)."""
    decided_by = member or declared
    if decided_by is None:
        raise Invalid("Indiquez qui décide (decided_by).", field="decided_by")
    return decided_by


def examined_revision(requested: int | None, current: int) -> int:
    """The revision the jury examined: the one its form showed, by default the current one.

    A decision on an older revision is recorded as such (it is « à revoir » at
    once); one on a revision that does not exist is refused.
    """
    if requested is None:
        return current
    if not 1 <= requested <= current:
        raise Invalid(f"Ce dossier n’a pas de révision {requested} (dernière : {current}).", field="revision")
    return requested


def granted_mentions(
    codes: Iterable[str] | None, detected: Sequence[Mention], rules: Sequence[MentionRule]
) -> tuple[Mention, ...] | None:
    """The mentions the jury grants, from their codes (None: it did not rule on mentions).

    Each code is a detected mention (kept with its evidence) or a mention of
    the edition's grille (added without evidence); duplicates count once.
    """
    if codes is None:
        return None
    by_code = {m.code: m for m in detected}
    labels = {r.code: r.label for r in rules}
    granted: list[Mention] = []
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            continue
        seen.add(code)
        if code in by_code:
            granted.append(by_code[code])
        elif code in labels:
            granted.append(Mention(code=code, label=labels[code]))
        else:
            raise Invalid(f"Mention «\u00a0{code}\u00a0» inconnue de la grille.", field=f"mentions.{i}")
    return tuple(granted)
