"""HTTP routes of `/v1` (thin: turn a request into a transaction and an event)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, replace
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace
from palmares_contracts import (
    Category,
    Ceremony,
    Grille,
    GrilleBody,
)
from palmares_eventkit.db import Connection
from palmares_eventkit.runtime import ServiceRuntime, Tx

from palmares_submission import (
    auth,
    catalogue,
    coalesce,
    palmares,
    palmares_exports,
    store,
    worklist,
)
from palmares_submission.domain import jury as jury_rules
from palmares_submission.domain.dossier import Revision
from palmares_submission.errors import ApiError, responses
from palmares_submission.ratelimit import TokenRateLimiter
from palmares_submission.schemas import (
    COLLECTIVITE_CODE,
    CategoryOverrideRequest,
    CategoryView,
    EvaluationsView,
    ImportedLabels,
    JuryRequest,
    JuryView,
    LabelHistoryImport,
    PalmaresPublication,
    PalmaresPublishRequest,
    PalmaresView,
    RegisterRequest,
    RegisterResponse,
    ReopeningRequest,
    ReopeningView,
    StatusView,
    SubmissionAccepted,
    SubmissionRequest,
    WorklistPage,
)
from palmares_submission.service import accounts as account_queries
from palmares_submission.service import commands, status_view, views
from palmares_submission.service import jury as jury_commands
from palmares_submission.settings import SubmissionSettings

log = logging.getLogger(__name__)

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}

# Path parameters are bounded like the fields they name: an edition outside
# 2000–2100 or a malformed code is a 422, never a query PostgreSQL refuses.
EditionPath = Annotated[int, Path(ge=2000, le=2100, examples=[2018])]
CodePath = Annotated[str, Path(pattern=COLLECTIVITE_CODE, examples=["49007"])]


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def settings_of(request: Request) -> SubmissionSettings:
    settings: SubmissionSettings = request.app.state.settings
    return settings


async def authenticate(request: Request) -> auth.Principal:
    """The caller, from `Authorization: Bearer <token>`: 401 without a valid token, 429 over its rate."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Authentification requise : jeton d’accès manquant.", headers=_UNAUTHENTICATED)
    caller = await account_queries.principal_of_token(
        runtime_of(request).pool, token, request.app.state.operator_tokens
    )
    if caller is None:
        raise ApiError(401, "Jeton invalide ou révoqué.", headers=_UNAUTHENTICATED)
    limiter: TokenRateLimiter = request.app.state.rate_limiter
    wait = await limiter.retry_after(caller.token_key, operator=caller.operator)
    if wait is not None:
        raise ApiError(
            429, f"Trop de requêtes avec ce jeton : réessayez dans {wait} s.", headers={"Retry-After": str(wait)}
        )
    return caller


# Declares the bearer scheme in the OpenAPI document; `authenticate` does the checking.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="jeton",
    description=(
        "Jeton d’une collectivité (`pal_…`, donné à l’inscription), d’un membre du jury (`jur_…`, donné à "
        "l’invitation) ou d’un opérateur du label."
    ),
)


async def principal(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> auth.Principal:
    """The authenticated caller (authenticated once per request, before the body is read)."""
    caller: auth.Principal | None = getattr(request.state, "principal", None)
    if caller is None:
        caller = await authenticate(request)
        request.state.principal = caller
    return caller


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


class AuthenticatedFirst(APIRoute):
    """A route whose caller is authenticated, and whose role is checked, before its body is read.

    Without a valid token, the answer is 401 whatever the body holds; with a
    token of the wrong kind, 403: an unauthorised client learns nothing from
    validation errors, and its body is never parsed. (FastAPI parses the
    JSON body before it resolves dependencies.)
    """

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()
        if not _depends_on(self.dependant, principal):
            return handler
        guards = [g for g in _PRE_BODY_GUARDS if _depends_on(self.dependant, g)]

        async def authenticated(request: Request) -> Response:
            caller = await authenticate(request)
            request.state.principal = caller
            for guard in guards:
                await guard(caller)
            response: Response = await handler(request)
            return response

        return authenticated


router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)

Caller = Annotated[auth.Principal, Depends(principal)]


async def require_operator(caller: Caller) -> auth.Principal:
    if not caller.operator:
        raise ApiError(403, "Action réservée aux opérateurs du label.")
    return caller


async def require_collectivite(caller: Caller) -> auth.Principal:
    if caller.operator or caller.code is None:
        raise ApiError(403, "Le dépôt d’un dossier se fait avec le jeton de la collectivité.")
    return caller


async def require_staff(caller: Caller) -> auth.Principal:
    if not caller.staff:
        raise ApiError(403, "Action réservée au jury et aux opérateurs du label.")
    return caller


# Role checks that need the principal alone: run before the body is read (AuthenticatedFirst). Coroutines,
# though they never wait: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
_PRE_BODY_GUARDS = (require_operator, require_collectivite, require_staff)

Operator = Annotated[auth.Principal, Depends(require_operator)]
CollectiviteCaller = Annotated[auth.Principal, Depends(require_collectivite)]
# Operators and jury members (`jur_…` tokens): read every dossier, record decisions; never publish.
Staff = Annotated[auth.Principal, Depends(require_staff)]

# Error answers of authenticated routes, and of those that take a body.
AUTH = (401, 403, 422, 429)
BODY = (400, 413)


# --- collectivités -----------------------------------------------------------------------


@router.post(
    "/collectivites",
    status_code=201,
    response_model=RegisterResponse,
    tags=["operator"],
    responses=responses(*AUTH, 409, *BODY),
)
async def register_collectivite(body: RegisterRequest, request: Request, _: Operator) -> RegisterResponse:
    """Register a collectivité from the reference data; its API token is returned once."""
    village_max_population = settings_of(request).village_max_population
    done = await commands.run(
        runtime_of(request).transaction,
        lambda tx: commands.register(
            tx, body.code, str(body.contact_email), village_max_population=village_max_population
        ),
    )
    return _with_token(done)


def _with_token(done: commands.Registered) -> RegisterResponse:
    # The response's fields taken from the row (the contact's email is not among them).
    return RegisterResponse.model_validate({**asdict(done.collectivite), "token": done.token})


def _own_or_operator(caller: auth.Principal, code: str) -> None:
    if not caller.may_manage(code):
        raise ApiError(403, "Ce jeton n’est pas celui de cette collectivité.")


@router.post(
    "/collectivites/{code}/token",
    response_model=RegisterResponse,
    tags=["operator", "collectivite"],
    responses=responses(*AUTH, 404),
)
async def rotate_token(code: CodePath, request: Request, caller: Caller) -> RegisterResponse:
    """Issue a new token (shown once); the previous one stops working at once.

    An operator may do it for any collectivité, a collectivité for itself.
    """
    _own_or_operator(caller, code)
    return _with_token(await commands.run(runtime_of(request).transaction, lambda tx: commands.rotate_token(tx, code)))


@router.delete(
    "/collectivites/{code}/token",
    status_code=204,
    response_class=Response,
    tags=["operator", "collectivite"],
    responses=responses(*AUTH, 404),
)
async def revoke_token(code: CodePath, request: Request, caller: Caller) -> Response:
    """Revoke the collectivité's token: it answers 401 from now on, until a new one is issued.

    An operator may do it for any collectivité, a collectivité for itself
    (a token that leaked).
    """
    _own_or_operator(caller, code)
    await commands.run(runtime_of(request).transaction, lambda tx: commands.revoke_token(tx, code))
    return Response(status_code=204)


# --- category of a collectivité for an edition -------------------------------------------------


@router.get(
    "/editions/{edition}/collectivites/{code}/category",
    response_model=CategoryView,
    tags=["operator"],
    responses=responses(*AUTH, 404),
)
async def get_category(edition: EditionPath, code: CodePath, request: Request, _: Operator) -> CategoryView:
    """The collectivité's category for an edition, its population then, and the audit trail of decisions."""
    async with runtime_of(request).pool.acquire() as conn:
        view = await views.category_of(conn, code, edition, settings_of(request).village_max_population)
    if view is None:
        raise ApiError(404, f"La collectivité {code} n'est pas inscrite.")
    return view


@router.put(
    "/editions/{edition}/collectivites/{code}/category",
    response_model=CategoryView,
    tags=["operator"],
    responses=responses(*AUTH, 404, 409, *BODY),
)
async def override_category(
    edition: EditionPath, code: CodePath, body: CategoryOverrideRequest, request: Request, _: Operator
) -> CategoryView:
    """Set the collectivité's category for an edition, with a reason (kept in the audit trail).

    Its dossier of that edition, if any and in another category, gets a new
    revision with the new category (same actions): scoring, mentions and notify
    re-evaluate it, and the collectivité receives the receipt of that revision.
    """
    threshold = settings_of(request).village_max_population
    runtime = runtime_of(request)
    done = await commands.run(
        runtime.transaction,
        lambda tx: commands.override_category(
            tx, edition, code, body.category, body.reason, body.decided_by, village_max_population=threshold
        ),
    )
    revision = None
    if done.revised is not None:
        revision = done.revised.revision
        trace.get_current_span().set_attribute("palmares.submission_id", str(done.revised.submission_id))
    async with runtime.pool.acquire() as conn:
        return await views.category_view(conn, done.collectivite, edition, threshold, revision)


@router.put(
    "/editions/{edition}/collectivites/{code}/reopening",
    response_model=ReopeningView,
    tags=["operator"],
    responses=responses(*AUTH, 404, 409, *BODY),
)
async def reopen_dossier(
    edition: EditionPath, code: CodePath, request: Request, _: Operator, body: ReopeningRequest | None = None
) -> ReopeningView:
    """Reopen one collectivité's dossier after the campaign closed (the grille's `closes_at`).

    It may then deposit or revise its dossier until `until`, or until the
    palmarès when `until` is absent. Reopening again replaces the previous term.
    """
    until = body.until if body else None
    done = await commands.run(runtime_of(request).transaction, lambda tx: commands.reopen(tx, edition, code, until))
    return ReopeningView(
        edition=edition,
        code=code,
        reopened_at=done.reopening.reopened_at,
        until=done.reopening.until,
        closes_at=done.closes_at,
    )


# --- submissions ---------------------------------------------------------------------------


@router.post(
    "/editions/{edition}/submissions",
    status_code=202,
    response_model=SubmissionAccepted,
    tags=["collectivite"],
    responses=responses(*AUTH, 409, *BODY),
)
async def submit(
    edition: EditionPath,
    body: SubmissionRequest,
    request: Request,
    response: Response,
    caller: CollectiviteCaller,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")] = None,
) -> SubmissionAccepted:
    """Submit (a new revision of) the caller's dossier for an edition."""
    assert caller.code is not None  # require_collectivite
    code = caller.code
    done = await commands.run(
        runtime_of(request).transaction,
        lambda tx: commands.submit(
            tx,
            edition,
            code,
            body,
            idempotency_key,
            village_max_population=settings_of(request).village_max_population,
        ),
    )
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        trace.get_current_span().set_attribute("palmares.submission_id", str(done.accepted.submission_id))
    return _accepted(done.accepted)


def _accepted(accepted: Revision) -> SubmissionAccepted:
    return SubmissionAccepted(
        submission_id=accepted.submission_id,
        revision=accepted.revision,
        status_url=f"/v1/submissions/{accepted.submission_id}",
    )


@router.get(
    "/submissions/{submission_id}",
    response_model=StatusView,
    tags=["collectivite"],
    responses=responses(*AUTH, 404),
)
async def submission_status(submission_id: UUID, request: Request, caller: Caller) -> StatusView:
    """The status of a dossier and its results as far as they are known."""
    async with runtime_of(request).pool.acquire() as conn:
        found = await status_view.read(conn, submission_id, staff=caller.staff)
    if found is None:
        raise ApiError(404, "Dossier introuvable.")
    if not caller.may_read(found.submission.collectivite_code):
        raise ApiError(403, "Ce dossier appartient à une autre collectivité.")
    return found.view


# --- grille ----------------------------------------------------------------------------------


@router.put(
    "/editions/{edition}/grille", response_model=Grille, tags=["operator"], responses=responses(*AUTH, 409, *BODY)
)
async def publish_grille(edition: EditionPath, body: GrilleBody, request: Request, _: Operator) -> Grille:
    """Publish a new version of an edition's grille (the service assigns the version)."""
    done = await commands.run(runtime_of(request).transaction, lambda tx: commands.publish_grille(tx, edition, body))
    return done.grille


@router.get("/editions/{edition}/grille", response_model=Grille, tags=["public"], responses=responses(404, 422))
async def get_grille(edition: EditionPath, request: Request) -> Grille:
    """The current grille version of an edition."""
    async with runtime_of(request).pool.acquire() as conn:
        grille = await store.current_grille(conn, edition)
    if grille is None:
        raise ApiError(404, f"Aucune grille publiée pour l’édition {edition}.")
    return grille


# --- jury and palmarès -----------------------------------------------------------------------


@router.post(
    "/submissions/{submission_id}/jury-decision",
    status_code=202,
    response_model=JuryView,
    tags=["operator", "jury"],
    responses=responses(*AUTH, 404, *BODY),
)
async def jury_decision(submission_id: UUID, body: JuryRequest, request: Request, caller: Staff) -> JuryView:
    """Record the jury's decision on a dossier: arobases, comment, the mentions it grants (the pré-notation stays).

    Operators and jury members (`jur_…`: the decision is signed with the member's name).
    """
    decided_by = jury_rules.signer(caller.jury, body.decided_by)
    done = await commands.run(
        runtime_of(request).transaction,
        lambda tx: jury_commands.decide(
            tx,
            submission_id,
            arobases=body.arobases,
            comment=body.comment,
            decided_by=decided_by,
            revision=body.revision,
            mention_codes=body.mentions,
        ),
    )
    # Alike on purpose: status_view._jury_view makes the same view of the stored decision (another row type).
    return JuryView(
        arobases=done.arobases,
        comment=done.comment,
        decided_by=done.decided_by,
        decided_at=done.decided_at,
        revision=done.revision,
        mentions=[m.model_dump(mode="json") for m in done.mentions] if done.mentions is not None else None,
        to_review_again=done.to_review_again,
    )


@router.get(
    "/editions/{edition}/submissions",
    response_model=WorklistPage,
    tags=["operator", "jury"],
    responses=responses(*AUTH),
)
async def list_submissions(
    edition: EditionPath,
    request: Request,
    _: Staff,
    category: Category | None = None,
    departement: Annotated[str | None, Query(max_length=3, examples=["49"])] = None,
    decided: bool | None = None,
    mention: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=worklist.MAX_QUERY_LENGTH, description="Name or code.")] = None,
    limit: Annotated[int, Query(ge=1, le=worklist.MAX_LIMIT)] = worklist.PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> WorklistPage:
    """The jury's worklist of an edition as JSON (operators and jury members), sorted by name, a page at a time."""
    params = {
        "category": category.value if category else "",
        "departement": departement or "",
        "decided": "" if decided is None else str(decided).lower(),
        "mention": mention or "",
        "q": q or "",
    }
    try:
        query = replace(
            worklist.parse_filters(edition, params),
            limit=limit,
            offset=worklist.decode_cursor(cursor) if cursor else 0,
        )
    except worklist.QueryError as exc:
        raise ApiError(422, exc.message, field=exc.field) from None
    async with runtime_of(request).pool.acquire() as conn:
        return await views.worklist_page(conn, query)


@router.get(
    "/editions/{edition}/evaluations",
    response_model=EvaluationsView,
    tags=["operator"],
    responses=responses(*AUTH),
)
async def evaluations(edition: EditionPath, request: Request, _: Operator) -> EvaluationsView:
    """Every dossier's pré-notation and the jury's arobases (`palmares grille calibrer EDITION --from-api`)."""
    async with runtime_of(request).pool.acquire() as conn:
        return await views.evaluations(conn, edition)


@router.post(
    "/editions/{edition}/palmares",
    status_code=202,
    response_model=PalmaresPublication,
    tags=["operator"],
    responses=responses(*AUTH, 409, *BODY),
)
async def publish_palmares(
    edition: EditionPath, request: Request, _: Operator, body: PalmaresPublishRequest | None = None
) -> PalmaresPublication:
    """Publish the palmarès of an edition: the campaign closes and award emails follow."""
    ceremony = Ceremony(place=body.ceremony.place, date=body.ceremony.date) if body and body.ceremony else None
    transaction = runtime_of(request).transaction
    done = await commands.run(transaction, lambda tx: commands.publish_palmares(tx, edition, ceremony))
    # The catalogue in a transaction of its own: the palmarès's event (and the award emails) leave without
    # waiting for it; the response waits for it, up to CATALOGUE_WAIT_S, so that the operator usually finds it
    # built. Should it fail, the palmarès stays published and the service's background loop builds it
    # (`app.build_requested_catalogues`).
    built = await finish_within(_build_catalogue(transaction, edition), CATALOGUE_WAIT_S)
    return PalmaresPublication(edition=edition, published_at=done.published_at, catalogue_built=built)


# How long the publication's answer waits for the catalogue build. A national edition's build can take a minute
# on a busy machine (78 s for 36,218 dossiers), longer than HTTP clients and proxies wait (the CLI gives up after
# 15 s) for a publication that did succeed; past this, the build goes on after the answer, which says so.
CATALOGUE_WAIT_S = 10.0

# The builds still running after their answer: the event loop keeps only weak references to its tasks.
_BUILDS: set[asyncio.Task[bool]] = set()


async def _build_catalogue(transaction: Callable[[], AbstractAsyncContextManager[Tx]], edition: int) -> bool:
    try:
        async with catalogue.build_slot():  # taken before the transaction: a waiting build holds nothing
            await commands.run(transaction, lambda tx: commands.build_catalogue(tx, edition))
    except Exception:
        log.exception("catalogue build failed, left to the background loop", extra={"edition": edition})
        return False
    return True


async def finish_within(work: Coroutine[Any, Any, bool], seconds: float) -> bool:
    """`work`'s result if it ends within `seconds`; otherwise False, and `work` goes on in the background."""
    task = asyncio.ensure_future(work)
    _BUILDS.add(task)
    task.add_done_callback(_BUILDS.discard)
    try:
        return await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        log.info("answered before the end of a catalogue build, which goes on", extra={"after_s": seconds})
        return False


@router.get(
    "/editions/{edition}/palmares",
    response_model=PalmaresView,
    tags=["public"],
    responses={
        200: {
            "content": {
                fmt.media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for fmt in palmares_exports.FORMATS.values()
            },
            "description": "JSON; CSV (`;`, UTF-8 with BOM), XLSX or ODS with `?format=` or the `Accept` header",
        },
        **responses(404, 422),
    },
)
async def get_palmares(
    edition: EditionPath, request: Request, format: Literal["json", "csv", "xlsx", "ods"] | None = None
) -> Any:
    """The published palmarès, grouped as Villages, Villes and Territoires (JSON, CSV, XLSX or ODS)."""
    accept = request.headers.get("accept", "")
    chosen: str = format or next(
        (name for name, fmt in palmares_exports.FORMATS.items() if fmt.media_type.split(";")[0] in accept), "json"
    )
    # Written as the entries are read (`palmares.view_json`, `palmares.export`): the JSON is the `PalmaresView`
    # it documents.
    build: Callable[[Connection], Awaitable[bytes | None]]
    if chosen == "json":
        build, media_type, headers = (lambda conn: palmares.view_json(conn, edition)), "application/json", None
    else:
        file = palmares_exports.FORMATS[chosen]
        build, media_type = (lambda conn: palmares.export(conn, edition, file)), file.media_type
        headers = {"Content-Disposition": f'attachment; filename="palmares-{edition}.{file.extension}"'}
    body = await public_palmares(request).ask((chosen, edition), lambda: _with_connection(request, build))
    if body is None:
        raise ApiError(404, f"Le palmarès {edition} n’est pas encore publié.")
    return Response(body, media_type=media_type, headers=headers)


@router.post(
    "/label-history",
    status_code=202,
    response_model=ImportedLabels,
    tags=["operator"],
    responses=responses(*AUTH, 409, *BODY),
)
async def import_label_history(body: LabelHistoryImport, request: Request, _: Operator) -> ImportedLabels:
    """Import the labels of editions this system did not run (for the distinctions)."""
    entries = [(e.code, e.edition, e.arobases) for e in body.entries]
    done = await commands.run(runtime_of(request).transaction, lambda tx: commands.import_label_history(tx, entries))
    return ImportedLabels(imported=done.count)


page_router = APIRouter()


@page_router.get(
    "/palmares/{edition}",
    response_class=HTMLResponse,
    tags=["public"],
    responses={
        404: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "Palmarès pas encore publié"},
        # JSON like every error of the API (the route's own responses are HTML).
        422: {
            "description": "Édition hors de 2000–2100",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        },
    },
)
async def palmares_page(edition: EditionPath, request: Request) -> HTMLResponse:
    """The palmarès as a French web page."""

    async def page() -> tuple[int, bytes]:
        # Encoded once for every visitor who waited for this build (a national palmarès is megabytes of HTML).
        html = await _with_connection(request, lambda conn: palmares.page(conn, edition))
        if html is None:
            return 404, palmares.not_published_html(edition).encode()
        return 200, html

    status, body = await public_palmares(request).ask(("page", edition), page)
    return HTMLResponse(body, status_code=status)


def public_palmares(request: Request) -> coalesce.Coalescer[Any]:
    """The palmarès builds of this process: one at a time, shared by the requests that wait for them."""
    coalescer: coalesce.Coalescer[Any] = request.app.state.public_palmares
    return coalescer


async def _with_connection(request: Request, build: Callable[[Connection], Awaitable[bytes | None]]) -> bytes | None:
    async with runtime_of(request).pool.acquire() as conn:
        return await build(conn)
