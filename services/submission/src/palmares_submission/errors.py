"""Errors of the API, in French for the collectivités, naming the field at fault.

Every error body has the same shape:
`{"detail": [{"field": "actions.0.title", "message": "…", "type": "…"}], "error": "…"}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

# French wording of pydantic's error types (the ones a request body can hit).
_FRENCH = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "une chaîne de caractères est attendue",
    "string_too_short": "texte trop court (au moins {min_length} caractère(s))",
    "string_too_long": "texte trop long (au plus {max_length} caractères)",
    "string_pattern_mismatch": "format invalide",
    "too_short": "liste trop courte (au moins {min_length} élément(s))",
    "too_long": "liste trop longue (au plus {max_length} éléments)",
    "list_type": "une liste est attendue",
    "int_type": "un nombre entier est attendu",
    "int_parsing": "un nombre entier est attendu",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "date_type": "une date AAAA-MM-JJ est attendue",
    "date_parsing": "une date AAAA-MM-JJ est attendue",
    "date_from_datetime_parsing": "une date AAAA-MM-JJ est attendue",
    "url_parsing": "adresse web invalide",
    "url_scheme": "seules les adresses http et https sont acceptées",
    "url_type": "adresse web invalide",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "un objet JSON est attendu",
    "dict_type": "un objet JSON est attendu",
    "uuid_parsing": "identifiant invalide",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "path", "query", "header")]
    return ".".join(parts) or "body"


def french_message(error: dict[str, Any]) -> str:
    """A French sentence for one pydantic error."""
    kind = error.get("type", "")
    if kind == "value_error":
        # Our own validators already speak French ("ended_on: la date de fin …");
        # email-validator speaks English: say it plainly.
        msg = str(error.get("msg", ""))
        if "email" in msg.lower():
            return "adresse électronique invalide"
        return msg.removeprefix("Value error, ")
    template = _FRENCH.get(kind)
    if template is None:
        return str(error.get("msg", "valeur invalide"))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


def problem(
    status: int, error: str, detail: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail or []}, status_code=status, headers=headers)


class ApiError(Exception):
    """An error with its HTTP status and a French message (optionally the field at fault)."""

    def __init__(
        self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same French shape."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": _field(tuple(e.get("loc", ()))), "message": french_message(e), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem(422, "Requête invalide : corrigez les champs indiqués.", detail)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        detail = [{"field": exc.field, "message": exc.message, "type": "invalid"}] if exc.field else []
        return problem(exc.status, exc.message, detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "Ressource introuvable.", 405: "Méthode non autorisée."}
        return problem(
            exc.status_code, messages.get(exc.status_code, str(exc.detail)), headers=getattr(exc, "headers", None)
        )
