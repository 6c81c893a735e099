"""Security settings on a real process: several operator tokens, the rate and body limits; PostgreSQL sslmode.

A second submission instance runs beside the session's one (same database
and Kafka), configured differently: operators from `OPERATOR_TOKENS` and
`OPERATOR_TOKENS_FILE` only, 5 requests a minute per collectivité token,
bodies of 4 KiB at most.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from palmares_stack.pytest_plugin import Infra
from palmares_stack.services import ServiceEndpoint, start_service

from tests.factories import grille_body
from tests.integration.harness import Codes, Stack, dossier, next_edition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

LISTED = ["op_" + secrets.token_urlsafe(16), "op_" + secrets.token_urlsafe(16)]
IN_FILE = "op_" + secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def configured(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceEndpoint]:
    base = tmp_path_factory.mktemp("submission-configured")
    tokens_file = base / "operator-tokens"
    tokens_file.write_text(f"# operators of the label\n{IN_FILE}  # Alice\n")
    tokens_file.chmod(0o600)
    env = {k: v for k, v in stack.env.items() if k != "OPERATOR_TOKEN"}
    env |= {
        "OPERATOR_TOKENS": ",".join(LISTED),
        "OPERATOR_TOKENS_FILE": str(tokens_file),
        "PALMARES_RATE_LIMIT": "5/minute",
        "PALMARES_MAX_BODY_BYTES": "4096",
    }
    endpoint = start_service("submission", env, base / "logs", tie_to_parent=True, instance="configured")
    try:
        yield endpoint
    finally:
        endpoint.process.stop(timeout=20)


async def test_every_configured_operator_token_works_and_only_those(
    configured: ServiceEndpoint, stack: Stack, codes: Codes
) -> None:
    async with httpx.AsyncClient(base_url=configured.url, timeout=30) as client:
        for token in (*LISTED, IN_FILE):
            r = await client.post(
                f"/v1/collectivites/{codes.take('ville')}/token", headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 404, r.text  # an operator: the collectivité is just not registered
        # The session's OPERATOR_TOKEN is not configured on this instance.
        r = await client.post(
            "/v1/collectivites/49007/token", headers={"Authorization": f"Bearer {stack.operator_token}"}
        )
        assert r.status_code == 401


async def test_rate_and_body_limits_from_configuration(configured: ServiceEndpoint, codes: Codes) -> None:
    operator = {"Authorization": f"Bearer {LISTED[0]}"}
    async with httpx.AsyncClient(base_url=configured.url, timeout=30) as client:
        edition = next_edition()
        body = grille_body(edition, title="G" * 5000)
        # Over 4 KiB: refused before parsing, even for an operator.
        r = await client.put(f"/v1/editions/{edition}/grille", json=body, headers=operator)
        assert r.status_code == 413 and r.json()["detail"][0]["message"] == "au plus 4\u202f096\u00a0octets"
        r = await client.post(
            "/v1/collectivites",
            json={"code": codes.take("ville"), "contact_email": "limite@ville.example"},
            headers=operator,
        )
        token = {"Authorization": f"Bearer {r.json()['token']}"}
        statuses = [(await client.get(f"/v1/submissions/{'1' * 32}", headers=token)).status_code for _ in range(6)]
        assert statuses == [404] * 5 + [429]
        r = await client.post(
            f"/v1/editions/{edition}/submissions", json=dossier("limite@ville.example"), headers=token
        )
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
        # Operators are not limited unless PALMARES_OPERATOR_RATE_LIMIT says so.
        for _ in range(10):
            assert (await client.get(f"/v1/submissions/{'1' * 32}", headers=operator)).status_code == 404


async def test_postgres_sslmode_in_database_url_is_honoured(infra: Infra) -> None:
    """The test server has no TLS: `require` must refuse to go on in clear, `prefer` falls back."""
    url = infra.database_url
    joiner = "&" if "?" in url else "?"
    conn = await asyncpg.connect(f"{url}{joiner}sslmode=disable")
    assert await conn.fetchval("SELECT NOT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    await conn.close()
    conn = await asyncpg.connect(f"{url}{joiner}sslmode=prefer")
    await conn.close()
    with pytest.raises((ConnectionError, OSError)) as refused:
        await asyncpg.connect(f"{url}{joiner}sslmode=require", timeout=10)
    assert "SSL" in str(refused.value)


def test_the_second_instance_logged_no_operator_token(
    configured: ServiceEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = "".join(
        p.read_text(errors="replace")
        for p in Path(tmp_path_factory.getbasetemp()).glob("submission-configured*/logs/*.log")
    )
    assert logs, "the instance writes a log"
    for token in (*LISTED, IN_FILE):
        assert token not in logs
