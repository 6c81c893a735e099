"""stack.env: what the launcher writes is read back the same by python-dotenv, the CLI and a shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

from palmares_cli.config import read_env_file
from palmares_stack.stack import LocalStack

VALUES = {
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:39001,127.0.0.1:39002",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:39003/palmares?sslmode=disable",
    "OPERATOR_TOKEN": "op-Zx_9.~+/-token",
}


def test_values_merge_and_read_back(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    assert stack.read_env() == {}
    stack.update_env(VALUES)
    stack.update_env({"API_URL": "http://127.0.0.1:39004", "OPERATOR_TOKEN": "replaced"})
    expected = {**VALUES, "API_URL": "http://127.0.0.1:39004", "OPERATOR_TOKEN": "replaced"}
    assert stack.read_env() == expected
    assert read_env_file(stack.env_path, explicit=True) == expected


def test_a_shell_sources_it_to_the_same_values(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.update_env(VALUES)
    names = " ".join(f'"${name}"' for name in VALUES)
    out = subprocess.run(
        ["bash", "-c", f'set -a; . "$0"; printf "%s\\n" {names}', str(stack.env_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == list(VALUES.values())
