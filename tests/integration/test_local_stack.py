"""`make up && make demo` then `make down`, as an operator runs them (the same commands, in a scratch state dir)."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from palmares_stack.postgres import private_data_parent
from palmares_stack.process import pid_alive
from palmares_stack.stack import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
PALMARES = Path(sys.executable).with_name("palmares")


def run(*argv: str | Path, timeout: float = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_up_demo_down_leaves_one_receipt_and_one_award_per_demo_collectivite() -> None:
    state = private_data_parent("palmares-up-") / "run"  # not under pytest's tmp dir: PostgreSQL runs as another user
    campaign = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text())
    expected = {c["contact_email"] for c in campaign["collectivites"]}
    try:
        up = run(sys.executable, "-m", "palmares_stack", "up", "--services", "--state-dir", state)
        assert up.returncode == 0, up.stdout + up.stderr
        demo = run(
            PALMARES,
            "--env-file",
            state / "stack.env",
            "--json",
            "demo",
            "--tokens-file",
            state / "demo-tokens.json",
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr

        mails = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in (state / "mail").glob("*.eml")
        ]
        notified = [m for m in mails if m["X-Palmares-Notification"]]
        kinds = Counter((str(m["X-Palmares-Notification"]).split(";")[0], str(m["To"])) for m in notified)
        assert kinds == Counter({("receipt", to): 1 for to in expected} | {("award", to): 1 for to in expected})
        # The rest: the espaces' own emails, the jury member's invitation.
        assert [str(m["To"]) for m in mails if not m["X-Palmares-Notification"]] == ["jury@villes-internet.example"]
        espaces = json.loads(demo.stdout)["espaces"]
        assert espaces["collectivite"]["email"] in expected
        assert "/espace/connexion/lien?token=" in espaces["jury"]["sign_in_link"]

        tokens = json.loads((state / "demo-tokens.json").read_text())
        ids = [entry["submission_id"] for entry in tokens["collectivites"].values()]
        assert len(ids) == len(expected)
        for sid in ids:
            status = run(PALMARES, "--env-file", state / "stack.env", "--json", "status", sid, timeout=30)
            assert status.returncode == 0, status.stderr
            assert json.loads(status.stdout)["status"] == "notified"
    finally:
        pids = [p.pid for p in LocalStack(state).processes()]
        down = run(sys.executable, "-m", "palmares_stack", "down", "--state-dir", state, timeout=120)
        shutil.rmtree(state.parent, ignore_errors=True)
    assert down.returncode == 0, down.stdout + down.stderr
    alive = [pid for pid in pids if pid_alive(pid)]  # zombies count as gone: they hold nothing
    assert not alive, f"processes left running after down: {alive}"
