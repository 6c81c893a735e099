"""A thin client of the submission service's `/v1` API (docs/openapi.json).

It only turns HTTP into Python: JSON in, JSON out, and every failure into a
typed error (`ApiError` with the status and the API's French messages,
`Unreachable`, `ApiTimeout`) so the commands map them to exit codes in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from palmares_cli.errors import ApiError, ApiTimeout, FieldError, OperationFailed, Unreachable, UsageProblem

DEFAULT_TIMEOUT_S = 15.0
_OK = range(200, 300)


def parse_error(response: httpx.Response) -> ApiError:
    """The API's error body (`{"error": "…", "detail": [{"field", "message"}]}`) as an `ApiError`.

    Tolerates bodies that are not ours (a proxy's HTML page, FastAPI's plain
    `{"detail": "…"}`): the operator still gets the status and some text.
    """
    request = response.request
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = ""
    details: list[FieldError] = []
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        detail = body.get("detail")
        if isinstance(detail, str) and not message:
            message = detail
        elif isinstance(detail, list):
            for item in detail:
                if isinstance(item, dict) and "message" in item:
                    field = item.get("field")
                    details.append(FieldError(str(field) if field is not None else None, str(item["message"])))
    if not message:
        text = response.text.strip().replace("\n", " ")
        message = text[:300] if text else (response.reason_phrase or "error")
    return ApiError(response.status_code, message, details, method=request.method, path=request.url.path)


class ApiClient:
    """Calls to the API with the operator token (or a collectivité's token where the API wants it)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        try:
            self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise UsageProblem(f"invalid API URL {base_url!r}: {exc}") from exc

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One call; a 2xx response, or a typed error."""
        sent_headers = dict(headers or {})
        bearer = token or self._token
        if bearer:
            sent_headers["Authorization"] = f"Bearer {bearer}"
        try:
            response = self._http.request(method, path, json=json, headers=sent_headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing reached the server: safe to say so, and to retry later.
            raise Unreachable(f"cannot reach the API at {self.base_url}: {exc}") from exc
        except httpx.TimeoutException as exc:
            # The request left; the server may have acted on it. Not "unreachable".
            raise ApiTimeout(f"{method} {path}: no answer from {self.base_url} in time ({type(exc).__name__})") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise UsageProblem(f"invalid API URL {self.base_url!r}: {exc}") from exc
        except httpx.TransportError as exc:
            raise OperationFailed(f"{method} {path}: connection to {self.base_url} failed: {exc}") from exc
        if response.status_code not in _OK:
            raise parse_error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise OperationFailed(f"{method} {path}: the API answered {response.status_code} without JSON") from exc

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """An endpoint that answers a JSON object."""
        found = self._json(method, path, **kwargs)
        if not isinstance(found, dict):
            raise OperationFailed(f"{method} {path}: the API answered {type(found).__name__}, not a JSON object")
        return found

    # ------------------------------------------------------------------ endpoints

    def health(self) -> Any:
        return self._json("GET", "/health")

    def register(self, code: str, contact_email: str) -> dict[str, Any]:
        """Register a collectivité; the answer holds its token, shown once."""
        return self._object("POST", "/v1/collectivites", json={"code": code, "contact_email": contact_email})

    def rotate_token(self, code: str) -> dict[str, Any]:
        """A new token for a registered collectivité (the previous one stops working)."""
        return self._object("POST", f"/v1/collectivites/{_seg(code)}/token")

    def revoke_token(self, code: str) -> None:
        """Revoke a collectivité's token (DELETE, 204): it answers 401 until a new one is issued."""
        self.request("DELETE", f"/v1/collectivites/{_seg(code)}/token")

    def submit(
        self, edition: int, body: Mapping[str, Any], *, token: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Submit (a revision of) a dossier with the collectivité's own token."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = self.request(
            "POST", f"/v1/editions/{edition}/submissions", json=dict(body), token=token, headers=headers
        )
        result: dict[str, Any] = response.json()
        result["idempotent_replay"] = response.headers.get("Idempotent-Replayed") == "true"
        return result

    def submission(self, submission_id: str) -> dict[str, Any]:
        """The status view of a dossier."""
        return self._object("GET", f"/v1/submissions/{_seg(submission_id)}")

    def publish_grille(self, edition: int, grille: Mapping[str, Any]) -> dict[str, Any]:
        """Publish a grille version; the answer carries the version the service assigned."""
        return self._object("PUT", f"/v1/editions/{edition}/grille", json=dict(grille))

    def grille(self, edition: int) -> dict[str, Any]:
        return self._object("GET", f"/v1/editions/{edition}/grille")

    def jury_decide(
        self,
        submission_id: str,
        *,
        arobases: int,
        comment: str,
        decided_by: str,
        mentions: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Record the jury's decision; `mentions` (codes) are the ones it grants, None leaves the detected ones."""
        body: dict[str, Any] = {"arobases": arobases, "comment": comment, "decided_by": decided_by}
        if mentions is not None:
            body["mentions"] = list(mentions)
        return self._object("POST", f"/v1/submissions/{_seg(submission_id)}/jury-decision", json=body)

    def category(self, edition: int, code: str) -> dict[str, Any]:
        """A collectivité's category for an edition, its population then and the decisions (operators)."""
        return self._object("GET", f"/v1/editions/{edition}/collectivites/{_seg(code)}/category")

    def set_category(self, edition: int, code: str, *, category: str, reason: str, decided_by: str) -> dict[str, Any]:
        """Override a collectivité's category for an edition, with a reason (audited)."""
        return self._object(
            "PUT",
            f"/v1/editions/{edition}/collectivites/{_seg(code)}/category",
            json={"category": category, "reason": reason, "decided_by": decided_by},
        )

    def reopen(self, edition: int, code: str, until: str | None = None) -> dict[str, Any]:
        """Reopen a collectivité's dossier after the campaign closed (until an instant, or until the palmarès)."""
        return self._object(
            "PUT", f"/v1/editions/{edition}/collectivites/{_seg(code)}/reopening", json={"until": until}
        )

    def invite_jury_member(self, email: str, name: str) -> dict[str, Any]:
        """Invite a jury member (an invitation email; the answer holds their API token, shown once)."""
        return self._object("POST", "/v1/jury-members", json={"email": email, "name": name})

    def jury_members(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/v1/jury-members")["items"]
        return result

    def revoke_jury_member(self, member_id: str) -> None:
        self.request("DELETE", f"/v1/jury-members/{_seg(member_id)}")

    def sign_in_link(self, email: str) -> dict[str, Any]:
        """A single-use sign-in link to the espaces for a registered address (valid 15 minutes)."""
        return self._object("POST", "/v1/sign-in-links", json={"email": email})

    def evaluations(self, edition: int) -> dict[str, Any]:
        """Every dossier's pré-notation and the jury's arobases (operators)."""
        return self._object("GET", f"/v1/editions/{edition}/evaluations")

    def publish_palmares(self, edition: int, ceremony: Mapping[str, str] | None = None) -> dict[str, Any]:
        body = {"ceremony": dict(ceremony)} if ceremony else None
        return self._object("POST", f"/v1/editions/{edition}/palmares", json=body)

    def palmares(self, edition: int) -> dict[str, Any]:
        return self._object("GET", f"/v1/editions/{edition}/palmares")

    def progress(self, edition: int) -> dict[str, Any]:
        """The edition's re-evaluation and awards: done, total, rate and time left per job (operators)."""
        return self._object("GET", f"/v1/editions/{edition}/progress")

    def tendances(self, edition: int, min_dossiers: int = 2, text_only: bool = False) -> dict[str, Any]:
        """The actions the grille does not describe, in themes, and the services nobody declared (operators)."""
        query = f"min_dossiers={min_dossiers}&text_only={'true' if text_only else 'false'}"
        return self._object("GET", f"/v1/editions/{edition}/tendances?{query}")

    def observatoire(self, edition: int, by: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/editions/{edition}/observatoire?by={_seg(by)}")


def _seg(value: str) -> str:
    # A path segment typed by an operator must not be able to change the route.
    return quote(value, safe="")
