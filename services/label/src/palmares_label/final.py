"""What a dossier finally gets once the jury has spoken: its arobases and its mentions.

Scoring's pré-notation and the mentions service's detected mentions are
proposals; the jury confirms or overrides them (`JuryDecided`):

- the arobases are the jury's once it decided, otherwise the pré-notation;
- the mentions are the ones the jury granted once it ruled on them
  (`JuryDecided.mentions`, version 2: the detected mentions it confirmed and
  the ones it added; a detected mention it removed is not among them),
  otherwise the detected ones. A decision on the arobases alone (`mentions`
  is `None`, and every version 1 decision) leaves the detected mentions as
  they are; a jury that removed every mention granted the empty tuple.

The palmarès, the award email, the rectificatif and the status view all show
what these functions return. They take the values as each service stores them
(a mention may be the contracts' `Mention` or its JSON form): the rule does not
depend on the representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, overload

M = TypeVar("M")


@overload
def final_arobases(pre_notation: int, jury_arobases: int | None) -> int: ...
@overload
def final_arobases(pre_notation: int | None, jury_arobases: int | None) -> int | None: ...
def final_arobases(pre_notation: int | None, jury_arobases: int | None) -> int | None:
    """The jury's arobases once it decided, otherwise the pré-notation (None: neither is known yet)."""
    return jury_arobases if jury_arobases is not None else pre_notation


def final_mentions(detected: Sequence[M] | None, granted: Sequence[M] | None) -> tuple[M, ...]:
    """The mentions the jury granted once it ruled on them, otherwise the detected ones (none known: empty)."""
    if granted is not None:
        return tuple(granted)
    return tuple(detected or ())
