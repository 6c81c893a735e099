"""What text a request may carry (pure): storable by PostgreSQL, harmless in an email header or a page.

PostgreSQL refuses NUL in `text` and `jsonb`, and a lone surrogate cannot be
encoded to UTF-8: accepted, either would turn a bad request into a 500 later.
Control characters have no business in a title, a name or a place; in a
single-line field a CR or LF is also the raw material of header injection.
Multi-line fields (descriptions, narrative, comments) keep tab, CR and LF.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# C0 controls and DEL, C1 controls, the Unicode line and paragraph separators.
_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, less tab, LF and CR.
_MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

CONTROL_MESSAGE = "caractères de contrôle interdits dans ce champ"
SURROGATE_MESSAGE = "texte Unicode invalide (substitut isolé)"


def problem_in(value: str, *, multiline: bool) -> str | None:
    """Why `value` cannot be accepted as text, in French, or None when it can."""
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    forbidden = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    if forbidden.search(value):
        return "retours à la ligne et " + CONTROL_MESSAGE if not multiline else CONTROL_MESSAGE
    return None


def _check(multiline: bool) -> Any:
    def check(value: str) -> str:
        problem = problem_in(value, multiline=multiline)
        if problem is not None:
            raise PydanticCustomError("text_forbidden_characters", problem)
        return value

    return check


single_line = AfterValidator(_check(multiline=False))
"""A title, a name, a place: printable characters only (put it after the length `Field`)."""

multi_line = AfterValidator(_check(multiline=True))
"""A description, a narrative, a comment: printable characters, tab and line breaks."""


def first_problem(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str, str] | None:
    """The first string anywhere in a JSON-like value that cannot be stored: (field path, French reason).

    For bodies whose model this service does not own (the grille, a contract):
    every string may hold line breaks there, none may hold NUL, other controls
    or lone surrogates.
    """
    if isinstance(value, str):
        problem = problem_in(value, multiline=True)
        return (".".join(str(p) for p in path) or "body", problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = first_problem(key, (*path, key)) if isinstance(key, str) else None
            found = found or first_problem(item, (*path, key))
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = first_problem(item, (*path, i))
            if found:
                return found
    return None
