"""The user-facing French texts to check, as plain text: letters, pages and the API's error messages.

Letters and pages are rendered on sample data (`samples`); an HTML text is read
as a reader sees it (tags gone, entities decoded, every block a paragraph),
its alternative texts and ARIA labels checked on their own. The API's error
messages are found in the submission service's code: every message given to
`ApiError`, to a command's refusal (`Invalid`, `Conflict`…),
`PydanticCustomError` or an error body, its f-string placeholders replaced by
sample values, and the French wording of each validation error (`errors.py`),
each typeset as the responses show it (`errors.shown`). A field's message is a
fragment that the API shows after the field's name
(`{"field": "actions.0.title", "message": "champ obligatoire manquant"}`): it
is checked so, after a field's name.
"""

from __future__ import annotations

import ast
import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from palmares_submission import calendar, errors

from tools.french import samples
from tools.repository import repository_root

_BLOCKS = {
    *("p", "h1", "h2", "h3", "li", "ul", "br", "div", "section", "header", "footer", "nav", "main", "title"),
    *("table", "caption", "tr", "td", "th", "option", "label"),
    *("dl", "dt", "dd", "ol", "blockquote", "figure", "figcaption", "details", "summary", "form", "label"),
    *("fieldset", "legend", "button", "aside", "article", "h4", "text", "desc"),  # text, desc: an SVG's
}
_SILENT = {"style", "script"}
_WHITE = re.compile(r"[ \t\r\f\v]+")
_SPOKEN_ATTRIBUTES = ("alt", "aria-label", "title")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.attributes: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SILENT:
            self._silent += 1
        if tag in _BLOCKS:
            self.parts.append("\n")
        self.attributes += [value for name, value in attrs if name in _SPOKEN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in _SILENT:
            self._silent -= 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._silent:
            self.parts.append(data)


def visible(html: str) -> tuple[str, list[str]]:
    """What a reader sees of `html` (one block a line), and its alternative texts and labels."""
    parser = _Visible()
    parser.feed(html)
    # Runs of ordinary white space become one space; a non-breaking space is typography, kept.
    lines = (_WHITE.sub(" ", line).strip(" ") for line in "".join(parser.parts).splitlines())
    # One paragraph a block: a heading, a cell or a link is not the start of the next sentence.
    return "\n\n".join(line for line in lines if line), parser.attributes


def _parts(message: samples.Raw) -> tuple[str, str, str]:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.SMTP)
    assert isinstance(parsed, EmailMessage)
    text, html = (parsed.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    return str(parsed["Subject"]), text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def letter_texts() -> dict[str, str]:
    """Each sample letter's subject, text part, HTML part (as read) and image descriptions."""
    texts: dict[str, str] = {}
    for name, message in samples.letters().items():
        subject, text, html = _parts(message)
        shown, attributes = visible(html)
        texts[f"email {name}: subject"] = subject
        texts[f"email {name}: text"] = text
        texts[f"email {name}: html"] = shown
        for i, attribute in enumerate(attributes):
            texts[f"email {name}: html attribute {i}"] = attribute
    return texts


def page_texts() -> dict[str, str]:
    """Each page, as read, and its alternative texts and labels."""
    texts: dict[str, str] = {}
    for name, html in samples.pages().items():
        shown, attributes = visible(html)
        texts[f"page {name}"] = shown
        for i, attribute in enumerate(dict.fromkeys(attributes)):
            texts[f"page {name}: attribute {i}"] = attribute
    return texts


# --- the API's error messages -----------------------------------------------------------------

# Sample values for the placeholders of the messages (by their expression in the code).
_PLACEHOLDERS = {
    "edition": "2017",
    "entry.edition": "2015",
    "body.edition": "2018",
    "grille.edition": "2017",
    "grille.version": "2",
    "code": "79202",
    "body.code": "79202",
    "ref.code": "79202",
    "wait": "30",
    "limit": "1048576",
    "problem[0]": "services.0.label",
    "problem[1]": "caractères de contrôle interdits dans ce champ",
}
_DATE_SAMPLE = "30/11/2017"
_SAMPLE_CONTEXT: dict[str, Any] = {
    "min_length": 1,
    "max_length": 300,
    "ge": 1,
    "le": 5,
    "gt": 0,
    "lt": 100,
    "expected": "'commune' or 'epci'",
}


def _sample(node: ast.expr) -> str | None:
    """The text of a string or f-string, placeholders replaced by sample values; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                out.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                source = ast.unparse(value.value)
                out.append(_DATE_SAMPLE if value.format_spec is not None else _PLACEHOLDERS.get(source, "2017"))
        return "".join(out)
    return None


def field_message(fragment: str) -> str:
    """A field's error message as the API's clients show it: typeset, after the field's name."""
    shown = errors.shown(fragment)
    # A fragment (« au plus 300 caractères ») ends the client's sentence; a whole sentence has its own full stop.
    return f"Titre de l’action\u00a0: {shown}{'' if shown.endswith(('.', '!', '?', '…')) else '.'}"


# What the service layer raises (palmares_submission.domain.errors): its message first.
_REFUSALS = ("Refused", "Invalid", "Conflict", "Forbidden", "NotFound")


def _messages_in(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, message) of every error message in a module: whole sentences, and fields' messages framed."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ("ApiError", "problem") and len(node.args) >= 2:  # the error of a response
                text = _sample(node.args[1])
                if text is not None:
                    yield node.lineno, errors.shown(text)
            if name in _REFUSALS and node.args:  # a command's refusal, answered like an ApiError
                text = _sample(node.args[0])
                if text is not None:
                    yield node.lineno, errors.shown(text)
            if name == "PydanticCustomError" and len(node.args) >= 2:  # a field's message
                text = _sample(node.args[1])
                if text is not None:
                    yield node.lineno, field_message(text)
        if isinstance(node, ast.Dict):  # an error body written by hand: {"error": "…", "message": "…"}
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("error", "message") and value is not None:
                    text = _sample(value)
                    if text is not None:
                        yield node.lineno, errors.shown(text) if key.value == "error" else field_message(text)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_MESSAGE") for t in node.targets
        ):
            text = _sample(node.value)
            if text is not None:
                yield node.lineno, field_message(text)


def api_error_texts(package: Path | None = None) -> dict[str, str]:
    """The submission API's French error messages, found in its code and given sample values."""
    root = package or repository_root() / "services" / "submission" / "src" / "palmares_submission"
    texts: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        for line, text in _messages_in(ast.parse(path.read_text(), str(path))):
            texts[f"api {path.name}:{line}"] = text
    # The French wording of every validation error pydantic may raise, through the service's own code.
    for kind in errors.FRENCH_ERRORS:
        texts[f"api validation error {kind}"] = field_message(
            errors.french_message({"type": kind, "ctx": _SAMPLE_CONTEXT})
        )
    for status, text in errors.STATUS_MESSAGES.items():
        texts[f"api status {status}"] = errors.shown(text)
    return texts


def calendar_texts() -> dict[str, str]:
    """The campaign calendar's refusals (`palmares_submission.calendar`), with sample dates and counts."""
    closes_at = datetime(2017, 11, 30, 17, 0, tzinfo=UTC)
    return {
        "calendar: campaign closed": errors.shown(calendar.closed_message(2018, closes_at)),
        "calendar: one decision to review": errors.shown(calendar.palmares_blocked_message(2018, 1) or ""),
        "calendar: decisions to review": errors.shown(calendar.palmares_blocked_message(2018, 3) or ""),
    }


def all_texts() -> dict[str, str]:
    return {
        **letter_texts(),
        **page_texts(),
        **api_error_texts(),
        **calendar_texts(),
        **samples.mention_messages(),
        **samples.ignored_action_reasons(),
    }
