"""The demo campaign's data, turned into API calls (pure: files in, request bodies out).

`deploy/demo/campaign-2017.json` carries more than the API accepts (`expected`,
`comment`, each action's `themes`) and leaves `services` empty: the services
are filled here from the themes through `deploy/demo/themes.json`, so the
campaign file stays independent of a grille's codes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palmares_contracts import GrilleBody
from pydantic import ValidationError

from palmares_cli.errors import OperationFailed
from palmares_cli.files import read_json

DEFAULT_CAMPAIGN = Path("deploy/demo/campaign-2017.json")
DEFAULT_GRILLE = Path("deploy/grilles/grille-2017.json")
DEFAULT_THEMES = Path("deploy/demo/themes.json")
DEFAULT_TOKENS = Path(".run/demo-tokens.json")
# The 18th palmarès was revealed in Lille on 1 February 2017 (the press article, docs/glossary.md).
DEFAULT_CEREMONY = {"place": "Lille", "date": "2017-02-01"}

# What `POST /v1/editions/{edition}/submissions` accepts (schemas.ActionIn,
# SubmissionRequest): the API forbids unknown fields, so everything else goes.
ACTION_FIELDS = ("title", "description", "services", "url", "started_on", "ended_on")

STATUS_ORDER = {"received": 0, "evaluated": 1, "notified": 2}


def same_grille(local: GrilleBody, published: Mapping[str, Any]) -> bool:
    """Is the published grille (which has a `version`) the same content as the file?"""
    try:
        remote = GrilleBody.model_validate(dict(published))
    except ValidationError:
        return False
    return remote.model_dump(mode="json") == local.model_dump(mode="json")


def load_themes(path: Path) -> dict[str, list[str]]:
    """`themes.json`: `{"themes": {"keyword": ["service_code", …]}}`."""
    data = read_json(path, "themes mapping")
    themes = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in themes.items()
    ):
        raise OperationFailed(f'{path}: expected {{"themes": {{keyword: [service codes]}}}}')
    return {k: list(v) for k, v in themes.items()}


@dataclass(frozen=True, slots=True)
class UnknownTheme:
    code: str
    action: str
    theme: str


class UnknownThemes(OperationFailed):
    """Themes of the campaign that the mapping does not know: all listed at once, before any call."""

    def __init__(self, unknown: list[UnknownTheme], mapping: Path | None = None) -> None:
        themes = sorted({u.theme for u in unknown})
        where = f" in {mapping}" if mapping else ""
        lines = [f"{len(themes)} theme(s) of the campaign have no mapping{where}: {', '.join(themes)}"]
        lines += [f"  - {u.code} « {u.action} »: {u.theme}" for u in unknown]
        super().__init__("\n".join(lines))
        self.unknown = unknown


class UnknownServices(OperationFailed):
    """Codes of the mapping that the grille does not have."""


@dataclass(frozen=True, slots=True)
class DemoEntry:
    """One collectivité of the campaign, ready for the API."""

    code: str
    name: str
    contact_email: str
    body: dict[str, Any]
    # What the press article says (`expected.arobases_in_article`), for `--jury-from-article`.
    article_arobases: int | None = None
    # The range it gives instead (`expected.arobases_range_in_article`: « entre deux et quatre arobases »).
    article_range: tuple[int, int] | None = None

    @property
    def article(self) -> str:
        """What the article says of it, as the demo's table shows it: « 5 @ », « 2–4 @ », or « - »."""
        if self.article_arobases is not None:
            return f"{self.article_arobases} @"
        if self.article_range is not None:
            return f"{self.article_range[0]}–{self.article_range[1]} @"
        return "-"

    def idempotency_key(self, edition: int) -> str:
        """Stable for the same dossier, new when its content changes.

        Re-running the demo replays the same submission (the API answers with
        the same id), while a fixed mapping or campaign yields a new revision
        instead of the API's 422 "key reused for another content".
        """
        digest = hashlib.sha256(json.dumps(self.body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return f"demo-{edition}-{self.code}-{digest[:16]}"


def services_for(themes: list[str], mapping: Mapping[str, list[str]]) -> list[str]:
    """The service codes of an action's themes, in order, without repeats."""
    codes: list[str] = []
    for theme in themes:
        for code in mapping.get(theme, []):
            if code not in codes:
                codes.append(code)
    return codes


def unknown_themes(campaign: Mapping[str, Any], mapping: Mapping[str, list[str]]) -> list[UnknownTheme]:
    return [
        UnknownTheme(str(entry["code"]), str(action.get("title", "?")), theme)
        for entry in campaign["collectivites"]
        for action in entry["dossier"]["actions"]
        for theme in action.get("themes", [])
        if theme not in mapping or not mapping[theme]
    ]


def action_body(action: Mapping[str, Any], mapping: Mapping[str, list[str]]) -> dict[str, Any]:
    """The API's fields of an action, `services` = declared ones + those of its themes."""
    body = {k: action[k] for k in ACTION_FIELDS if k in action}
    declared = [str(c) for c in action.get("services") or []]
    body["services"] = declared + [
        c for c in services_for(list(action.get("themes", [])), mapping) if c not in declared
    ]
    return body


def submission_body(entry: Mapping[str, Any], mapping: Mapping[str, list[str]]) -> dict[str, Any]:
    """The request body of a collectivité's dossier: `actions`, `narrative`, `contact_email` only."""
    dossier = entry["dossier"]
    body: dict[str, Any] = {
        "actions": [action_body(a, mapping) for a in dossier["actions"]],
        "narrative": dossier.get("narrative", ""),
    }
    if entry.get("contact_email"):
        body["contact_email"] = entry["contact_email"]
    return body


def prepare(
    campaign: Mapping[str, Any],
    mapping: Mapping[str, list[str]],
    *,
    grille: GrilleBody | None = None,
    mapping_path: Path | None = None,
) -> list[DemoEntry]:
    """Every dossier of the campaign as an API body; unknown themes (or unknown codes) fail first, all listed."""
    unknown = unknown_themes(campaign, mapping)
    if unknown:
        raise UnknownThemes(unknown, mapping_path)
    if grille is not None:
        known = {s.code for s in grille.services}
        used = {c for codes in mapping.values() for c in codes}
        missing = sorted(used - known)
        if missing:
            raise UnknownServices(
                f"the themes mapping uses service codes that grille {grille.edition} does not have: {', '.join(missing)}"
            )
    return [
        DemoEntry(
            code=str(e["code"]),
            name=str(e.get("name", e["code"])),
            contact_email=str(e.get("contact_email", "")),
            body=submission_body(e, mapping),
            article_arobases=_article_arobases(e),
            article_range=_article_range(e),
        )
        for e in campaign["collectivites"]
    ]


def _article_arobases(entry: Mapping[str, Any]) -> int | None:
    value = (entry.get("expected") or {}).get("arobases_in_article")
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def _article_range(entry: Mapping[str, Any]) -> tuple[int, int] | None:
    value = (entry.get("expected") or {}).get("arobases_range_in_article")
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and 1 <= v <= 5 for v in value):
        return (min(value), max(value))
    return None


def reached(status: str | None, target: str) -> bool:
    """`received` < `evaluated` < `notified`: has a dossier got at least that far?"""
    return status is not None and STATUS_ORDER.get(status, -1) >= STATUS_ORDER[target]


def save_tokens(path: Path, data: Mapping[str, Any]) -> None:
    """Write the demo's collectivité tokens readable by the owner only (mode 0600), atomically.

    The temporary file is created 0600 from the start, so the tokens are never
    readable by others, not even for an instant.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2)
            out.write("\n")
        os.chmod(tmp, 0o600)  # O_CREAT's mode only applies to a new file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_tokens(path: Path) -> dict[str, Any]:
    """The saved tokens file, or `{}` when there is none (or it is unreadable: it is only a cache)."""
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
