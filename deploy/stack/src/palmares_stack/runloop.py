"""`make run`'s foreground part: say where to look, wait for Ctrl-C, then stop the stack."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .stack import LocalStack


def _traces(env: dict[str, str]) -> str:
    store = env.get("PALMARES_TRACE_DIR", "?")
    line = f"  Traces (JSON lines)         {store}   → .venv/bin/palmares trace <submission_id>"
    viewer = env.get("JAEGER_UI_URL")
    if viewer:
        return f"  Traces (Jaeger)             {viewer}/search   (by dossier id; palmares trace prints links)\n{line}"
    return line + "\n  (no trace viewer: Jaeger was not started; see `make jaeger`)"


def banner(env: dict[str, str]) -> str:
    api = env.get("API_URL", "?")
    site = env.get("PALMARES_PUBLIC_URL", api)
    state = env.get("STACK_STATE_DIR", ".run")
    return f"""
Palmarès is running (edition 2017 demo campaign loaded, palmarès published).

  Espace collectivité         {site}/espace/collectivite   (sign in by a link sent by email)
  Espace jury                 {site}/espace/jury   (sign-in links printed above; .venv/bin/palmares sign-in-link EMAIL)
  Public palmarès             {site}/palmares/2017
  Actions labellisées         {site}/actions?edition=2017   (catalogue, French full-text search)
  Observatoire                {site}/observatoire/2017   (inequalities by région, département, population…)
  API and its documentation   {api}/docs
  Public palmarès (JSON)      {api}/v1/editions/2017/palmares
  Emails (one .eml each)      {env.get("MAIL_DIR", "?")}
{_traces(env)}
  Logs                        {state}/logs/
  Operator token              {state}/operator-token
  Kafka / PostgreSQL          {env.get("KAFKA_BOOTSTRAP_SERVERS", "?")} / {env.get("DATABASE_URL", "?")}

  .venv/bin/palmares status <submission_id>     follow a dossier
  .venv/bin/palmares palmares show 2017         the palmarès
  .venv/bin/palmares progress 2017              re-evaluation and awards: done, rate, time left
  .venv/bin/palmares observatoire 2017          the observatoire's figures (--by departement, population…)
  .venv/bin/palmares grille tendances 2017      the actions no service describes, in themes (the comité)

Press Ctrl-C to stop everything.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m palmares_stack.runloop")
    parser.add_argument("--state-dir", type=Path, default=Path(".run"))
    args = parser.parse_args(argv)
    stack = LocalStack(args.state_dir)
    print(banner(stack.read_env()), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(5):
        if not stack.is_up():
            print("a process of the stack stopped: see the logs; stopping the rest", flush=True)
            break
    print("stopping the stack…", flush=True)
    stack.down()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
