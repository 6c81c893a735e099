"""Errors of the API, in French for the collectivités, naming the field at fault.

Every error body has the same shape:
`{"detail": [{"field": "actions.0.title", "message": "…", "type": "…"}], "error": "…"}`.
"""

from __future__ import annotations

import re
import string
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from palmares_label import french
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from palmares_submission.domain.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from palmares_submission.schemas import ErrorBody

# French wording of pydantic's error types (the ones a request body can hit). A count is
# written `{name:noun}`: the number and its noun, agreed (« au moins un caractère »).
FRENCH_ERRORS = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "une chaîne de caractères est attendue",
    "string_too_short": "texte trop court (au moins {min_length:caractère})",
    "string_too_long": "texte trop long (au plus {max_length:caractère})",
    "string_pattern_mismatch": "format invalide",
    "too_short": "liste trop courte (au moins {min_length:élément})",
    "too_long": "liste trop longue (au plus {max_length:élément})",
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
    "uuid_type": "identifiant invalide",
    "url_too_long": "adresse web trop longue (au plus {max_length:caractère})",
    "string_unicode": "texte Unicode invalide",
    "int_from_float": "un nombre entier est attendu",
    "float_type": "un nombre est attendu",
    "float_parsing": "un nombre est attendu",
    "finite_number": "un nombre fini est attendu",
    "greater_than": "doit être strictement supérieur à {gt}",
    "less_than": "doit être strictement inférieur à {lt}",
    "bool_type": "un booléen est attendu",
    "bool_parsing": "un booléen est attendu",
    "enum": "valeur inconnue (attendu : {expected})",
    "literal_error": "valeur inconnue (attendu : {expected})",
    "tuple_type": "une liste est attendue",
    "date_from_datetime_inexact": "une date AAAA-MM-JJ est attendue",
    "datetime_type": "une date et heure ISO 8601 est attendue",
    "datetime_parsing": "une date et heure ISO 8601 est attendue",
    "none_required": "ce champ ne doit pas être renseigné",
    "model_type": "un objet JSON est attendu",
    "too_many_digits": "nombre trop long",
}

# Statuses the handlers below may answer with a generic French sentence.
STATUS_MESSAGES = {
    400: "Requête illisible.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée.",
    413: "Requête trop volumineuse.",
    429: "Trop de requêtes : réessayez plus tard.",
}


def _field(loc: tuple[Any, ...]) -> str:
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # a JSON syntax error: loc is the character offset, not a field
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
    template = FRENCH_ERRORS.get(kind)
    if template is None:
        # Our own PydanticCustomError types (text, dates, URLs) carry French messages;
        # an English one from a library is better than nothing, and says what is wrong.
        return str(error.get("msg", "valeur invalide"))
    # pydantic quotes the values it expects in straight quotes and joins them with "or".
    ctx = {k: _QUOTED.sub(r"« \1 »", str(v).replace(" or ", " ou ")) for k, v in (error.get("ctx") or {}).items()}
    try:
        return _COUNTING.format(template, **ctx)
    except (KeyError, IndexError, ValueError):
        return template


_QUOTED = re.compile(r"'([^']*)'")


class _Counting(string.Formatter):
    """`{name:noun}` writes the number (in letters up to ten) and its noun, agreed; other fields as `str.format`."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.isalpha():
            return french.count_in_words(int(value), format_spec)
        return str(super().format_field(value, format_spec))


_COUNTING = _Counting()


_DESCRIPTIONS = {
    400: "Requête illisible",
    401: "Jeton absent, invalide ou révoqué",
    403: "Jeton valide, mais sans droit sur cette ressource",
    404: "Ressource introuvable",
    409: "Conflit avec l’état de la campagne ou de la ressource",
    413: "Corps de requête trop volumineux",
    422: "Requête invalide : les champs en faute sont nommés",
    429: "Trop de requêtes pour ce jeton",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "required": True, "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "Secondes à attendre avant de réessayer",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declaration of the error answers of a route: the common body, and their headers."""
    return {
        status: {
            "model": ErrorBody,
            "description": _DESCRIPTIONS[status],
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def page_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses` for a route that answers HTML: its errors are still the API's JSON body.

    (With `model=`, FastAPI documents an extra answer in the route's own media type, text/html.)
    """
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def csv_or_json_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses` for a route that answers JSON, or CSV for French Excel with `?format=csv`."""
    return {
        200: {
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
            "description": "JSON, or CSV for French Excel (`;`, UTF-8 with BOM) with `?format=csv`",
        },
        **responses(*statuses),
    }


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the application accepts on the request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "__NONE__"})
        if match != Match.NONE and isinstance(route, Route) and route.methods:
            methods |= route.methods
    return sorted(methods)


def problem(
    status: int, error: str, detail: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body(error, detail), status_code=status, headers=headers)


def body(error: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The body of every error response: its French sentences typeset (apostrophes, non-breaking spaces)."""
    return {
        "error": shown(error),
        "detail": [{**d, "message": shown(d["message"])} if "message" in d else d for d in detail or []],
    }


def shown(message: str) -> str:
    """A French message as a response shows it: written with a keyboard, typeset in French."""
    return french.typeset(message)


# The status of each kind of refusal of a command (palmares_submission.domain.errors).
REFUSAL_STATUS: dict[type[Refused], int] = {Invalid: 422, Conflict: 409, Forbidden: 403, NotFound: 404}


def refusal_status(refused: Refused) -> int:
    return next(status for kind, status in REFUSAL_STATUS.items() if isinstance(refused, kind))


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

    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> JSONResponse:
        detail = [{"field": exc.field, "message": exc.message, "type": "invalid"}] if exc.field else []
        return problem(refusal_status(exc), exc.message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route matching the path only;
            # a path served by several routes (GET and PUT …/grille) supports them all.
            headers["Allow"] = ", ".join(allowed_methods(request))
        detail = [{"field": "body", "message": "corps de requête illisible", "type": "body_unreadable"}]
        return problem(
            exc.status_code,
            STATUS_MESSAGES.get(exc.status_code, str(exc.detail)),
            detail if exc.status_code == 400 else None,
            headers=headers,
        )
