"""HTTP routes of `/v1` (thin: turn a request into a transaction and an event)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import HTMLResponse
from opentelemetry import trace
from palmares_contracts import (
    Action,
    Ceremony,
    Collectivite,
    Distinction,
    Grille,
    GrilleBody,
    GrillePublished,
    JuryDecided,
    PalmaresPublished,
    SubmissionReceived,
    utcnow,
)
from palmares_eventkit.runtime import ServiceRuntime

from palmares_submission import auth, palmares, refdata, store
from palmares_submission.errors import ApiError
from palmares_submission.schemas import (
    Explanation,
    JuryRequest,
    JuryView,
    LabelHistoryImport,
    NotificationView,
    PalmaresPublishRequest,
    PalmaresView,
    RegisterRequest,
    RegisterResponse,
    StatusView,
    SubmissionAccepted,
    SubmissionRequest,
)
from palmares_submission.settings import SubmissionSettings
from palmares_submission.status import Progress, dossier_status

router = APIRouter(prefix="/v1")

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def settings_of(request: Request) -> SubmissionSettings:
    settings: SubmissionSettings = request.app.state.settings
    return settings


async def principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> auth.Principal:
    """The caller, from `Authorization: Bearer <token>` (401 without a valid one)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "Authentification requise : jeton « Bearer » manquant.", headers=_UNAUTHENTICATED)
    token = authorization[7:].strip()
    if auth.is_operator(token, settings_of(request).operator_token.get_secret_value()):
        return auth.Principal(operator=True)
    async with runtime_of(request).pool.acquire() as conn:
        row = await store.collectivite_by_token(conn, auth.hash_token(token))
    if row is None:
        raise ApiError(401, "Jeton invalide ou révoqué.", headers=_UNAUTHENTICATED)
    return auth.Principal(operator=False, code=row.code)


Caller = Annotated[auth.Principal, Depends(principal)]


def require_operator(caller: Caller) -> auth.Principal:
    if not caller.operator:
        raise ApiError(403, "Action réservée aux opérateurs du label.")
    return caller


Operator = Annotated[auth.Principal, Depends(require_operator)]


# --- collectivités -----------------------------------------------------------------------


@router.post("/collectivites", status_code=201, response_model=RegisterResponse, tags=["operator"])
async def register_collectivite(body: RegisterRequest, request: Request, _: Operator) -> RegisterResponse:
    """Register a collectivité from the reference data; its API token is returned once."""
    ref = refdata.lookup(body.code)
    if ref is None:
        raise ApiError(422, f"Code {body.code} inconnu du référentiel des collectivités.", field="code")
    category = refdata.category_of(ref, settings_of(request).village_max_population)
    row = store.CollectiviteRow(
        code=ref.code,
        kind=ref.kind,
        name=ref.name,
        population=ref.population,
        departement=ref.departement,
        category=category,
        contact_email=str(body.contact_email),
    )
    token = auth.new_token()
    async with runtime_of(request).transaction() as tx:
        if not await store.insert_collectivite(tx.conn, row, auth.hash_token(token)):
            raise ApiError(409, f"La collectivité {ref.code} est déjà inscrite.", field="code")
    return RegisterResponse(
        code=row.code,
        name=row.name,
        kind=ref.kind,
        category=category,
        population=row.population,
        departement=row.departement,
        token=token,
    )


@router.post("/collectivites/{code}/token", response_model=RegisterResponse, tags=["operator"])
async def rotate_token(code: str, request: Request, _: Operator) -> RegisterResponse:
    """Issue a new token for a registered collectivité; the previous one stops working."""
    token = auth.new_token()
    async with runtime_of(request).transaction() as tx:
        row = await store.rotate_token(tx.conn, code, auth.hash_token(token))
    if row is None:
        raise ApiError(404, f"La collectivité {code} n'est pas inscrite.")
    return RegisterResponse(
        code=row.code,
        name=row.name,
        kind=row.kind,
        category=row.category,  # type: ignore[arg-type]
        population=row.population,
        departement=row.departement,
        token=token,
    )


# --- submissions ---------------------------------------------------------------------------


def _request_hash(body: SubmissionRequest) -> bytes:
    return hashlib.sha256(body.model_dump_json().encode()).digest()


@router.post(
    "/editions/{edition}/submissions", status_code=202, response_model=SubmissionAccepted, tags=["collectivite"]
)
async def submit(
    edition: int,
    body: SubmissionRequest,
    request: Request,
    response: Response,
    caller: Caller,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> SubmissionAccepted:
    """Submit (a new revision of) the caller's dossier for an edition."""
    if caller.operator or caller.code is None:
        raise ApiError(403, "Le dépôt d'un dossier se fait avec le jeton de la collectivité.")
    request_hash = _request_hash(body)
    async with runtime_of(request).transaction() as tx:
        conn = tx.conn
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"dossier:{edition}:{caller.code}")
        if idempotency_key:
            replay = await store.idempotent_replay(conn, caller.code, idempotency_key)
            if replay is not None:
                if bytes(replay["request_hash"]) != request_hash:
                    raise ApiError(
                        422, "Cette clé d'idempotence a déjà servi pour un autre contenu.", field="Idempotency-Key"
                    )
                response.headers["Idempotent-Replayed"] = "true"
                return _accepted(replay["submission_id"], replay["revision"])
        ed = await store.edition(conn, edition)
        if ed is None:
            raise ApiError(409, f"La campagne {edition} n'est pas ouverte : aucune grille n'est publiée.")
        if ed.palmares_published_at is not None:
            raise ApiError(409, f"La campagne {edition} est close : le palmarès a été publié.")
        grille = await store.current_grille(conn, edition)
        assert grille is not None
        _check_services(body, grille)
        row = await conn.fetchrow(
            "SELECT code, kind, name, population, departement, category, contact_email FROM collectivites WHERE code = $1",
            caller.code,
        )
        existing = await store.lock_dossier(conn, edition, caller.code)
        submission_id = existing["submission_id"] if existing else uuid4()
        revision = existing["revision"] + 1 if existing else 1
        now = utcnow()
        event = SubmissionReceived(
            submission_id=submission_id,
            revision=revision,
            edition=edition,
            collectivite=Collectivite(
                code=row["code"],
                kind=row["kind"],
                name=row["name"],
                population=row["population"],
                departement=row["departement"],
                category=row["category"],
                contact_email=str(body.contact_email or row["contact_email"]),
            ),
            actions=tuple(
                Action(
                    title=a.title,
                    description=a.description,
                    services=tuple(a.services),
                    url=str(a.url) if a.url else None,
                    started_on=a.started_on,
                    ended_on=a.ended_on,
                )
                for a in body.actions
            ),
            narrative=body.narrative,
            submitted_at=now,
        )
        await store.save_revision(
            conn,
            submission_id=submission_id,
            edition=edition,
            code=caller.code,
            revision=revision,
            event_json=event.model_dump_json(),
            submitted_at=now,
            idempotency=(idempotency_key, request_hash) if idempotency_key else None,
        )
        trace.get_current_span().set_attribute("palmares.submission_id", str(submission_id))
        await tx.publish(event)
    return _accepted(submission_id, revision)


def _accepted(submission_id: UUID, revision: int) -> SubmissionAccepted:
    return SubmissionAccepted(
        submission_id=submission_id, revision=revision, status_url=f"/v1/submissions/{submission_id}"
    )


def _check_services(body: SubmissionRequest, grille: Grille) -> None:
    known = {s.code for s in grille.services}
    for i, action in enumerate(body.actions):
        for j, code in enumerate(action.services):
            if code not in known:
                raise ApiError(
                    422,
                    f"Service « {code} » inconnu de la grille {grille.edition} (version {grille.version}).",
                    field=f"actions.{i}.services.{j}",
                )


@router.get("/submissions/{submission_id}", response_model=StatusView, tags=["collectivite"])
async def submission_status(submission_id: UUID, request: Request, caller: Caller) -> StatusView:
    """The status of a dossier and its results as far as they are known."""
    async with runtime_of(request).pool.acquire() as conn:
        sub = await store.submission(conn, submission_id)
        if sub is None:
            raise ApiError(404, "Dossier introuvable.")
        if not caller.may_read(sub["collectivite_code"]):
            raise ApiError(403, "Ce dossier appartient à une autre collectivité.")
        results = await store.results(conn, submission_id)
        jury = await store.jury(conn, submission_id)
        notes = await store.notifications(conn, submission_id)
    return build_status_view(sub, results, jury, notes)


def build_status_view(sub: Any, results: dict[str, Any], jury: Any, notes: list[Any]) -> StatusView:
    revision = sub["revision"]
    score = results.get("score")
    mentions = results.get("mentions")
    score_payload = json.loads(score["payload"]) if score else None
    mentions_payload = json.loads(mentions["payload"]) if mentions else None
    sent = [n for n in notes if n["status"] == "sent"]
    progress = Progress(
        revision=revision,
        score_revision=score["revision"] if score else None,
        mentions_revision=mentions["revision"] if mentions else None,
        receipt_sent=any(n["kind"] == "receipt" and n["revision"] == revision for n in sent),
        palmares_published=sub["palmares_published_at"] is not None,
        award_sent=any(n["kind"] == "award" for n in sent),
    )
    return StatusView(
        submission_id=sub["submission_id"],
        revision=revision,
        edition=sub["edition"],
        collectivite_code=sub["collectivite_code"],
        status=dossier_status(progress),
        score=score_payload["score"] if score_payload else None,
        arobases=score_payload["arobases"] if score_payload else None,
        grille_version=score["grille_version"] if score else None,
        explanation=Explanation(
            enjeux=score_payload.get("enjeux", []),
            next_level=score_payload.get("next_level"),
            ignored_actions=score_payload.get("ignored_actions", []),
        )
        if score_payload
        else None,
        mentions=mentions_payload.get("mentions", []) if mentions_payload else None,
        mentions_grille_version=mentions["grille_version"] if mentions else None,
        jury=JuryView(**dict(jury)) if jury else None,
        notifications=[
            NotificationView(
                notification_id=n["notification_id"],
                kind=n["kind"],
                status=n["status"],
                revision=n["revision"],
                to=n["to_addr"],
                message_id=n["message_id"],
                reason=n["reason"],
                at=n["occurred_at"],
            )
            for n in notes
        ],
        submitted_at=sub["submitted_at"],
    )


# --- grille ----------------------------------------------------------------------------------


@router.put("/editions/{edition}/grille", response_model=Grille, tags=["operator"])
async def publish_grille(edition: int, body: GrilleBody, request: Request, _: Operator) -> Grille:
    """Publish a new version of an edition's grille (the service assigns the version)."""
    if body.edition != edition:
        raise ApiError(422, f"La grille porte l'édition {body.edition}, l'URL l'édition {edition}.", field="edition")
    async with runtime_of(request).transaction() as tx:
        await tx.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"edition:{edition}")
        ed = await store.edition(tx.conn, edition, for_update=True)
        if ed is not None and ed.palmares_published_at is not None:
            raise ApiError(409, f"Le palmarès {edition} est publié : la grille ne peut plus changer.")
        version = (ed.grille_version + 1) if ed else 1
        grille = Grille(**body.model_dump(), version=version)
        await store.save_grille(tx.conn, grille)
        await tx.publish(GrillePublished(edition=edition, version=version, grille=grille))
    return grille


@router.get("/editions/{edition}/grille", response_model=Grille, tags=["public"])
async def get_grille(edition: int, request: Request) -> Grille:
    """The current grille version of an edition."""
    async with runtime_of(request).pool.acquire() as conn:
        grille = await store.current_grille(conn, edition)
    if grille is None:
        raise ApiError(404, f"Aucune grille publiée pour l'édition {edition}.")
    return grille


# --- jury and palmarès -----------------------------------------------------------------------


@router.post("/submissions/{submission_id}/jury-decision", status_code=202, response_model=JuryView, tags=["operator"])
async def jury_decision(submission_id: UUID, body: JuryRequest, request: Request, _: Operator) -> JuryView:
    """Record the jury's arobases for a dossier (the pré-notation stays visible)."""
    now = utcnow()
    async with runtime_of(request).transaction() as tx:
        sub = await store.submission(tx.conn, submission_id)
        if sub is None:
            raise ApiError(404, "Dossier introuvable.")
        await store.save_jury(tx.conn, submission_id, body.arobases, body.comment, body.decided_by, now)
        await tx.publish(
            JuryDecided(
                submission_id=submission_id,
                edition=sub["edition"],
                collectivite_code=sub["collectivite_code"],
                arobases=body.arobases,
                comment=body.comment,
                decided_by=body.decided_by,
            )
        )
    return JuryView(arobases=body.arobases, comment=body.comment, decided_by=body.decided_by, decided_at=now)


@router.post("/editions/{edition}/palmares", status_code=202, tags=["operator"])
async def publish_palmares(
    edition: int, request: Request, _: Operator, body: PalmaresPublishRequest | None = None
) -> dict[str, Any]:
    """Publish the palmarès of an edition: the campaign closes and award emails follow."""
    now = utcnow()
    ceremony = body.ceremony if body else None
    async with runtime_of(request).transaction() as tx:
        await tx.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"edition:{edition}")
        ed = await store.edition(tx.conn, edition, for_update=True)
        if ed is None:
            raise ApiError(409, f"Aucune grille publiée pour l'édition {edition} : rien à publier.")
        if ed.palmares_published_at is not None:
            raise ApiError(409, f"Le palmarès {edition} est déjà publié.")
        await store.publish_palmares(tx.conn, edition, now, ceremony.model_dump(mode="json") if ceremony else None)
        published = await palmares.view(tx.conn, edition)
        assert published is not None
        await tx.publish(
            PalmaresPublished(
                edition=edition,
                published_at=now,
                ceremony=Ceremony(place=ceremony.place, date=ceremony.date) if ceremony else None,
                distinctions=tuple(
                    Distinction(collectivite_code=e.collectivite_code, label=label)
                    for group in (published.villages, published.villes, published.territoires)
                    for e in group
                    for label in e.distinctions
                ),
            )
        )
    return {"edition": edition, "published_at": now.isoformat()}


@router.get(
    "/editions/{edition}/palmares",
    response_model=PalmaresView,
    tags=["public"],
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with `?format=csv` or `Accept: text/csv`"}
    },
)
async def get_palmares(edition: int, request: Request, format: str | None = None) -> Any:
    """The published palmarès, grouped as Villages, Villes and Territoires (JSON or CSV)."""
    async with runtime_of(request).pool.acquire() as conn:
        view = await palmares.view(conn, edition)
    if view is None:
        raise ApiError(404, f"Le palmarès {edition} n'est pas encore publié.")
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        return Response(
            palmares.to_csv(view),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="palmares-{edition}.csv"'},
        )
    if format not in (None, "json"):
        raise ApiError(422, "Format inconnu : « json » ou « csv ».", field="format")
    return view


@router.post("/label-history", status_code=202, tags=["operator"])
async def import_label_history(body: LabelHistoryImport, request: Request, _: Operator) -> dict[str, int]:
    """Import the labels of editions this system did not run (for the distinctions)."""
    async with runtime_of(request).transaction() as tx:
        managed = {
            r["edition"]
            for r in await tx.conn.fetch("SELECT edition FROM editions WHERE palmares_published_at IS NOT NULL")
        }
        for i, entry in enumerate(body.entries):
            if entry.edition in managed:
                raise ApiError(
                    409,
                    f"Le palmarès {entry.edition} a été publié par Palmarès : son historique ne s'importe pas.",
                    field=f"entries.{i}.edition",
                )
        await store.import_labels(tx.conn, [(e.code, e.edition, e.arobases) for e in body.entries])
    return {"imported": len(body.entries)}


page_router = APIRouter()


@page_router.get("/palmares/{edition}", response_class=HTMLResponse, tags=["public"])
async def palmares_page(edition: int, request: Request) -> HTMLResponse:
    """The palmarès as a French web page."""
    async with runtime_of(request).pool.acquire() as conn:
        view = await palmares.view(conn, edition)
    if view is None:
        return HTMLResponse(palmares.not_published_html(edition), status_code=404)
    return HTMLResponse(palmares.to_html(view))
