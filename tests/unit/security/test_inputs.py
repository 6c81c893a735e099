"""Input limits of the submission API, as the models and the error handler answer them (no server)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.exceptions import RequestValidationError
from palmares_submission import text
from palmares_submission.app import http_app, openapi_document
from palmares_submission.errors import french_message
from palmares_submission.schemas import (
    MAX_ACTIONS,
    JuryRequest,
    PalmaresPublishRequest,
    RegisterRequest,
    SubmissionRequest,
)
from pydantic import BaseModel, ValidationError


def action(**overrides: Any) -> dict[str, Any]:
    return {"title": "Portail", "services": ["portail_open_data"], "started_on": "2016-01-15", **overrides}


def errors(model: type[BaseModel], body: Any) -> dict[str, str]:
    """What the API answers for `body`: field → French message (as errors.install renders them)."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        # FastAPI reports the same errors under "body"; the field path is what follows.
        request_errors = RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]).errors()
        return {".".join(str(p) for p in e["loc"][1:]) or "body": french_message(e) for e in request_errors}
    return {}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"actions": []}, "actions", "liste trop courte (au moins un élément)"),
        ({"actions": [action()] * (MAX_ACTIONS + 1)}, "actions", f"liste trop longue (au plus {MAX_ACTIONS} éléments)"),
        ({"actions": [action(title="x" * 301)]}, "actions.0.title", "texte trop long (au plus 300 caractères)"),
        ({"actions": [action(title="   ")]}, "actions.0.title", "texte trop court (au moins un caractère)"),
        (
            {"actions": [action(description="x" * 10_001)]},
            "actions.0.description",
            "texte trop long (au plus 10\u202f000 caractères)",
        ),
        (
            {"actions": [action()], "narrative": "x" * 20_001},
            "narrative",
            "texte trop long (au plus 20\u202f000 caractères)",
        ),
        ({"actions": [action(services=["s"] * 51)]}, "actions.0.services", "liste trop longue (au plus 50 éléments)"),
        ({"actions": [action(services=["Pas Un Code"])]}, "actions.0.services.0", "format invalide"),
        (
            {"actions": [action(url="javascript:alert(1)")]},
            "actions.0.url",
            "seules les adresses http et https sont acceptées",
        ),
        (
            {"actions": [action(url="ftp://exemple.fr/f")]},
            "actions.0.url",
            "seules les adresses http et https sont acceptées",
        ),
        (
            {"actions": [action(url="data:text/html,<b>")]},
            "actions.0.url",
            "seules les adresses http et https sont acceptées",
        ),
        (
            {"actions": [action(url="file:///etc/passwd")]},
            "actions.0.url",
            "seules les adresses http et https sont acceptées",
        ),
        (
            {"actions": [action(url="https://moi:secret@exemple.fr/")]},
            "actions.0.url",
            "identifiants interdits dans l’adresse web",
        ),
        (
            {"actions": [action(url="https://" + "a" * 2000 + ".fr")]},
            "actions.0.url",
            "adresse web trop longue (au plus 2\u202f000 caractères)",
        ),
        (
            {"actions": [action(started_on="1989-12-31")]},
            "actions.0.started_on",
            "date invraisemblable : antérieure au 1er janvier 1990",
        ),
        (
            {"actions": [action(started_on="3016-01-15")]},
            "actions.0.started_on",
            "date invraisemblable : postérieure à 2100",
        ),
        ({"actions": [action(started_on="le 3 mars")]}, "actions.0.started_on", "une date AAAA-MM-JJ est attendue"),
        ({"actions": [action(ended_on="2015-01-01")]}, "actions.0.ended_on", "la date de fin précède la date de début"),
        (
            {"actions": [action(title="Portail\r\nBcc: x@evil.example")]},
            "actions.0.title",
            "retours à la ligne et caractères de contrôle interdits dans ce champ",
        ),
        (
            {"actions": [action(title="Port\x00ail")]},
            "actions.0.title",
            "retours à la ligne et caractères de contrôle interdits dans ce champ",
        ),
        (
            {"actions": [action(description="a\x00b")]},
            "actions.0.description",
            "caractères de contrôle interdits dans ce champ",
        ),
        ({"actions": [action(title="\ud800")]}, "actions.0.title", "texte Unicode invalide"),
        ({"actions": [action()], "contact_email": "pas-une-adresse"}, "contact_email", "adresse électronique invalide"),
        (
            {"actions": [action()], "contact_email": "a@b.example\r\nBcc: x@y.example"},
            "contact_email",
            "adresse électronique invalide",
        ),
        (
            {"actions": [action()], "contact_email": "a@b.example, c@d.example"},
            "contact_email",
            "adresse électronique invalide",
        ),
        (
            {"actions": [action()], "contact_email": "été@mairie.example"},
            "contact_email",
            "adresse électronique : caractères accentués avant « @ » refusés",
        ),
        ({"actions": [action()], "inconnu": 1}, "inconnu", "champ inconnu"),
        ({"actions": [action(services="portail")]}, "actions.0.services", "une liste est attendue"),
    ],
)
def test_each_limit_names_the_field_in_french(body: dict[str, Any], field: str, message: str) -> None:
    assert errors(SubmissionRequest, body).get(field) == message, errors(SubmissionRequest, body)


def test_a_dossier_within_the_limits_is_accepted() -> None:
    body = {
        "actions": [
            action(description="Ligne 1\r\nLigne 2\tcolonne", url="https://données.exemple.fr/", ended_on="2017-01-01")
        ],
        "narrative": "Récit\nsur plusieurs lignes",
        "contact_email": "numerique@mairie-été.example",
    }
    assert errors(SubmissionRequest, body) == {}
    parsed = SubmissionRequest.model_validate(body)
    assert parsed.contact_email == "numerique@" + "mairie-été.example".encode("idna").decode()


def test_a_one_mebibyte_dossier_stays_within_the_text_limits() -> None:
    # 200 actions of 300 + 10,000 characters are 2 MB: the body limit (1 MiB) comes first.
    body = {"actions": [action(title="t" * 300, description="d" * 10_000)] * MAX_ACTIONS}
    assert len(json.dumps(body)) > 1024 * 1024
    assert errors(SubmissionRequest, body) == {}


def test_operator_bodies_are_bounded_too() -> None:
    assert errors(RegisterRequest, {"code": "49007", "contact_email": "x"}) == {
        "contact_email": "adresse électronique invalide"
    }
    assert errors(RegisterRequest, {"code": "4900'; DROP TABLE", "contact_email": "a@b.example"}) == {
        "code": "format invalide"
    }
    assert errors(JuryRequest, {"arobases": 6, "decided_by": "Jury\nX"}) == {
        "arobases": "doit être inférieur ou égal à 5",
        "decided_by": "retours à la ligne et caractères de contrôle interdits dans ce champ",
    }
    assert errors(PalmaresPublishRequest, {"ceremony": {"place": "Lille\r\n", "date": "1900-01-01"}}) == {
        "ceremony.date": "date invraisemblable : antérieure au 1er janvier 1990"
    }  # the trailing CR/LF is white space, stripped


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"title": "ok", "services": [{"label": "ok\nmulti-ligne"}]}, None),
        ({"title": "ok", "services": [{"label": "a\x00b"}]}, ("services.0.label", text.CONTROL_MESSAGE)),
        ({"mentions": [{"terms": ["ok", "\ud83d"]}]}, ("mentions.0.terms.1", text.SURROGATE_MESSAGE)),
        ({"k\x00": "v"}, ("k\x00", text.CONTROL_MESSAGE)),
    ],
)
def test_text_nobody_can_store_is_found_anywhere_in_a_grille(value: Any, found: tuple[str, str] | None) -> None:
    assert text.first_problem(value) == found


def _query_parameters() -> list[tuple[str, str, str]]:
    """(method, path with its path parameters filled, name) of every query parameter the API documents."""
    filled = {"edition": "2018", "code": "49007", "submission_id": "00000000-0000-0000-0000-000000000001"}
    found = []
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    found.append((method.upper(), path.format(**filled), parameter["name"]))
    return found


QUERY_PARAMETERS = _query_parameters()


async def _ask(method: str, path: str, params: dict[str, str]) -> httpx.Response:
    # The app without its runtime: the refusal comes before authentication, the database or the route
    # (a NUL in ?service= of the catalogue's page reached PostgreSQL: a 500).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=http_app()), base_url="http://test") as client:
        return await client.request(method, path, params=params)


@pytest.mark.parametrize(
    ("method", "path", "name"), QUERY_PARAMETERS, ids=[f"{m} {p} {n}" for m, p, n in QUERY_PARAMETERS]
)
@pytest.mark.parametrize("control", ["\x00", "\x1f", "\u2028"], ids=["NUL", "US", "LS"])
async def test_a_control_character_in_any_query_parameter_is_a_422_naming_it(
    method: str, path: str, name: str, control: str
) -> None:
    r = await _ask(method, path, {name: f"a{control}b"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {"field": name, "message": "retours à la ligne et caractères de contrôle interdits dans ce champ",
         "type": "text_forbidden_characters"}
    ]  # fmt: skip


async def test_a_control_character_in_a_query_parameters_name_is_a_422_naming_it_escaped() -> None:
    r = await _ask("GET", "/v1/actions", {"q\x00": "x", "service": "ok"})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["q\\x00"]
