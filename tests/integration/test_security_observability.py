"""No token and no contact email in what the running services log and trace, even when they fail.

The dossier's contact address is at `unknown-user.example`: the SMTP
capture refuses it with `550 5.1.1 <address>: unknown user`, a reply that
notify logs and puts on its span. Tokens travel in headers, and one in a
query string.
"""

from __future__ import annotations

import json
import secrets

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier, eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def finished_spans(stack: Stack) -> list[dict[str, object]]:
    """Every span written so far (a line still being written by an exporter is skipped)."""
    spans = []
    for path in stack.trace_dir.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                spans.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return spans


async def test_logs_and_traces_carry_no_token_nor_contact_email(
    stack: Stack, api: Api, codes: Codes, edition: int
) -> None:
    await api.publish_grille(grille_body(edition))
    contact = f"secret-{secrets.token_hex(4)}@unknown-user.example"
    token = await api.register(codes.take("village"), contact)
    r = await api.submit(token, edition, dossier(contact))
    assert r.status_code == 202, r.text
    sid = r.json()["submission_id"]
    headers = {"Authorization": f"Bearer {token}"}
    # Secrets in places an instrumentation would record: a query string, a bad token.
    assert (await api.client.get(f"/v1/submissions/{sid}?token={token}", headers=headers)).status_code == 200
    assert (
        await api.client.get(f"/v1/submissions/{sid}", headers={"Authorization": f"Bearer {token}x"})
    ).status_code == 401

    async def refused() -> dict[str, object] | None:
        view = await api.status(sid)
        failed = [n for n in view["notifications"] if n["status"] == "failed"]
        return failed[0] if failed else None

    note = await eventually(refused, 30, "the receipt refused by the SMTP server")
    assert contact in str(note["reason"])  # the owner and the operators see it in the status view

    async def traced() -> list[dict[str, object]] | None:
        spans = finished_spans(stack)
        smtp = [s for s in spans if s["name"] == "smtp send" and s["attributes"].get("palmares.submission_id") == sid]  # type: ignore[union-attr]
        http = [s for s in spans if str(s["attributes"].get("http.url", "")).endswith("?token=[secret]")]  # type: ignore[union-attr]
        return spans if smtp and http else None

    spans = await eventually(traced, 30, "the SMTP span and the HTTP span of the query string")
    traces = json.dumps(spans, ensure_ascii=False)
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in stack.log_dir.glob("*.log"))
    for secret in (contact, token, stack.operator_token, token + "x"):
        assert secret not in traces, f"{secret[:8]}… in a span"
        assert secret not in logs, f"{secret[:8]}… in a log"
    (smtp,) = [s for s in spans if s["name"] == "smtp send" and s["attributes"].get("palmares.submission_id") == sid]  # type: ignore[union-attr]
    assert smtp["attributes"]["palmares.smtp.error"].startswith("550 5.1.1 <[email]>")  # type: ignore[index]
    # notify's warning about the refusal is there, redacted.
    assert "email not sent" in logs and "<[email]>: unknown user" in logs
