"""Benchmark: time to re-evaluate N dossiers after a grille update, on the real local stack.

    .venv/bin/python tests/benchmark/bench_regrade.py [--dossiers 10000]

Starts its own stack (Kafka, PostgreSQL, SMTP capture, the four services) in
a scratch state dir, publishes grille 2018 v1, submits N dossiers through the
HTTP API (real communes of the reference data), waits until all are
evaluated, publishes grille 2018 v2, and measures:

- scoring: until scoring has re-scored every dossier (its `evaluations` rows);
- end to end: until the submission service's status view shows the score and
  the mentions of every dossier under v2 (events relayed, consumed, applied).

Prints figures; writes them as JSON to `.run/bench/regrade.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from palmares_stack.ports import free_port
from palmares_stack.postgres import private_data_parent
from palmares_stack.services import stack_service_specs
from palmares_stack.stack import LocalStack
from palmares_submission.refdata import load_reference

REPO = Path(__file__).resolve().parents[2]
GRILLES = REPO / "deploy" / "grilles"


def dossier_for(rng: random.Random, codes: list[str], contact: str) -> dict[str, Any]:
    """A plausible dossier: 3–8 actions declaring 1–3 services each."""
    actions = []
    for i in range(rng.randint(3, 8)):
        actions.append(
            {
                "title": f"Action numérique n° {i + 1}",
                "description": "Service en ligne ouvert aux habitants, avec un accompagnement en mairie.",
                "services": rng.sample(codes, rng.randint(1, 3)),
                "started_on": f"201{rng.randint(4, 7)}-0{rng.randint(1, 9)}-15",
            }
        )
    return {"contact_email": contact, "narrative": "Notre commune publie ses données ouvertes.", "actions": actions}


async def wait_count(conn: asyncpg.Connection, sql: str, target: int, label: str, *args: Any) -> float:
    begin = time.monotonic()
    last = -1
    while True:
        n = await conn.fetchval(sql, *args)
        if n != last:
            print(f"  {label}: {n}/{target}", end="\r", flush=True)
            last = n
        if n >= target:
            print()
            return time.monotonic() - begin
        await asyncio.sleep(0.2)


async def run(env: dict[str, str], n: int) -> dict[str, Any]:
    v1 = json.loads((GRILLES / "grille-2018.json").read_text())
    v2 = json.loads((GRILLES / "grille-2018-v2.json").read_text())
    codes = [s["code"] for s in v1["services"]]
    refs = sorted(r.code for r in load_reference().values() if r.kind == "commune")
    rng = random.Random(2018)
    chosen = rng.sample(refs, n)
    operator = {"Authorization": f"Bearer {env['OPERATOR_TOKEN']}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=env["API_URL"], timeout=60, limits=limits) as client:
        r = await client.put("/v1/editions/2018/grille", json=v1, headers=operator)
        r.raise_for_status()
        gate = asyncio.Semaphore(32)

        retried = 0

        async def call(method: str, url: str, **kw: Any) -> httpx.Response:
            # A real client retries a request whose connection broke; the submission
            # carries an Idempotency-Key, so a retry never makes a second revision.
            nonlocal retried
            for attempt in range(5):
                try:
                    return await client.request(method, url, **kw)
                except httpx.TransportError:
                    retried += 1
                    await asyncio.sleep(0.1 * (attempt + 1))
            return await client.request(method, url, **kw)

        async def one(code: str) -> None:
            async with gate:
                contact = f"numerique@{code}.example"
                reg = await call(
                    "POST", "/v1/collectivites", json={"code": code, "contact_email": contact}, headers=operator
                )
                if reg.status_code == 409:
                    reg = await call("POST", f"/v1/collectivites/{code}/token", headers=operator)
                reg.raise_for_status()
                token = reg.json()["token"]
                sub = await call(
                    "POST",
                    "/v1/editions/2018/submissions",
                    json=dossier_for(rng, codes, contact),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{code}"},
                )
                sub.raise_for_status()

        begin = time.monotonic()
        await asyncio.gather(*(one(c) for c in chosen))
        intake_s = time.monotonic() - begin
        print(f"intake: {n} registrations + dossiers in {intake_s:.1f} s ({n / intake_s:.0f}/s), {retried} retried")

        conn = await asyncpg.connect(env["DATABASE_URL"])
        try:
            both_v = (
                "SELECT count(*) FROM (SELECT submission_id FROM submission.results WHERE grille_version = $1 "
                "GROUP BY submission_id HAVING count(*) = 2) t"
            )
            evaluated_s = await wait_count(conn, both_v, n, "evaluated under v1", 1)
            print(f"pipeline drained v1 {evaluated_s:.1f} s after the last POST")

            r = await client.put("/v1/editions/2018/grille", json=v2, headers=operator)
            r.raise_for_status()
            begin = time.monotonic()
            scoring_task = asyncio.create_task(
                wait_count(
                    await asyncpg.connect(env["DATABASE_URL"]),
                    "SELECT count(*) FROM scoring.evaluations WHERE grille_version = 2",
                    n,
                    "re-scored by scoring",
                )
            )
            end_to_end_s = await wait_count(conn, both_v, n, "re-evaluated, seen by the status view", 2)
            scoring_s = await scoring_task
        finally:
            await conn.close()
    return {
        "dossiers": n,
        "intake_s": round(intake_s, 1),
        "intake_per_s": round(n / intake_s, 1),
        "intake_retries": retried,
        "regrade_scoring_s": round(scoring_s, 1),
        "regrade_end_to_end_s": round(end_to_end_s, 1),
        "regrade_per_s": round(n / end_to_end_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the stack running (state dir printed)")
    args = parser.parse_args()
    state = private_data_parent("palmares-bench-") / "run"
    stack = LocalStack(state)
    ok = False
    try:
        specs, extra = stack_service_specs(state, free_port())
        stack.up(services=specs)
        stack.update_env(extra)
        figures = asyncio.run(run(stack.read_env(), args.dossiers))
        ok = True
    finally:
        if ok and not args.keep:
            stack.down()
            shutil.rmtree(state.parent, ignore_errors=True)
        else:
            print(
                f"stack left running in {state} (logs in {state / 'logs'}); stop it with: "
                f"python -m palmares_stack down --state-dir {state}"
            )
    out = REPO / ".run" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "regrade.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
