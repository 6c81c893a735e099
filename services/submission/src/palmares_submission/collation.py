"""French alphabetical order (pure): « Épernay » among the E, « Île-d’Yeu » among the I.

The Unicode Collation Algorithm with its default table, through pyuca: French
follows CLDR's root collation (letters first, then accents, then case), so the
default table orders French names as a French index does, where a byte or
code-point order puts « Épernay » after « Vannes ».
"""

from __future__ import annotations

from functools import cache

import pyuca  # type: ignore[import-untyped]


@cache
def _collator() -> pyuca.Collator:
    return pyuca.Collator()  # reads its table once per process (about 0.3 s)


def sort_key(text: str) -> tuple[int, ...]:
    """The key that sorts `text` in French alphabetical order."""
    key: tuple[int, ...] = _collator().sort_key(text)
    return key
