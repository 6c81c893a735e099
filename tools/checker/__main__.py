"""`python -m tools.checker HISTORY --edition N`: check a campaign's history against the running stack.

The addresses come from the options or from a stack.env (`--env-file .run/stack.env`,
the default): `API_URL`, `OPERATOR_TOKEN`, `KAFKA_BOOTSTRAP_SERVERS`, `MAIL_DIR`.
Prints the verdict as JSON; exits 0 when valid, 1 when an anomaly was found, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from dotenv import dotenv_values

from tools.checker.history import load
from tools.checker.observe import observe
from tools.checker.verdict import check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.checker", description=__doc__.splitlines()[0])
    parser.add_argument("history", type=Path, help="the campaign's history (JSON lines)")
    parser.add_argument("--edition", type=int, required=True)
    parser.add_argument("--env-file", type=Path, default=Path(".run/stack.env"))
    parser.add_argument("--api-url")
    parser.add_argument("--operator-token")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers")
    parser.add_argument("--mail-dir", type=Path)
    parser.add_argument("--no-palmares", action="store_true", help="the palmarès was not published: no award due")
    parser.add_argument(
        "--explained", action="append", default=[], metavar="ERROR_TYPE", help="dead letters caused on purpose"
    )
    args = parser.parse_args(argv)
    env = {k: v for k, v in dotenv_values(args.env_file).items() if v} if args.env_file.is_file() else {}
    settings = {
        "api_url": args.api_url or env.get("API_URL"),
        "operator_token": args.operator_token or env.get("OPERATOR_TOKEN"),
        "bootstrap": args.bootstrap or env.get("KAFKA_BOOTSTRAP_SERVERS"),
        "mail_dir": args.mail_dir or (Path(env["MAIL_DIR"]) if env.get("MAIL_DIR") else None),
    }
    missing = [name for name, value in settings.items() if not value]
    if missing:
        print(f"missing: {', '.join(missing)} (options or --env-file)", file=sys.stderr)
        return 2
    history = list(load(args.history))
    observed = asyncio.run(observe(history, edition=args.edition, **settings))  # type: ignore[arg-type]
    verdict = check(history, observed, palmares_expected=not args.no_palmares, explained=args.explained)
    print(json.dumps({"valid": verdict.valid, **asdict(verdict)}, indent=2, ensure_ascii=False))
    return 0 if verdict.valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
