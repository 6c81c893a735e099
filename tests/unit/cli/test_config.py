"""Configuration: the env file format, and options > environment > env file."""

from __future__ import annotations

from pathlib import Path

import pytest
from palmares_cli.config import DEFAULT_ENV_FILE, read_env_file, resolve
from palmares_cli.errors import EXIT_USAGE, UsageProblem
from palmares_cli.main import app
from typer.testing import CliRunner


def test_env_file_format(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    path.write_text("""# Written by palmares_stack
API_URL=http://127.0.0.1:8123

export OPERATOR_TOKEN="op secret"
KAFKA_BOOTSTRAP_SERVERS='127.0.0.1:9092,127.0.0.1:9093'
DATABASE_URL=postgresql://u@h:5/db?x=1
not a pair
=no key
""")
    assert read_env_file(path, explicit=True) == {
        "API_URL": "http://127.0.0.1:8123",
        "OPERATOR_TOKEN": "op secret",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092,127.0.0.1:9093",
        "DATABASE_URL": "postgresql://u@h:5/db?x=1",  # only the first "=" splits
    }


def _stack_env(directory: Path, **values: str) -> Path:
    path = directory / DEFAULT_ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_default_env_file_fills_in_what_the_environment_lacks(tmp_path: Path) -> None:
    _stack_env(tmp_path, API_URL="http://file", OPERATOR_TOKEN="file-token", KAFKA_BOOTSTRAP_SERVERS="file:9092")
    settings = resolve(environ={"OPERATOR_TOKEN": "env-token"}, cwd=tmp_path)
    assert settings.api_url == "http://file"
    assert settings.token == "env-token"  # the environment beats the file
    assert settings.kafka == "file:9092"
    assert settings.env_file == tmp_path / DEFAULT_ENV_FILE


def test_explicit_options_win_over_everything(tmp_path: Path) -> None:
    _stack_env(tmp_path, API_URL="http://file", PALMARES_TRACE_DIR="/file/traces")
    settings = resolve(
        api_url="http://option",
        trace_dir=Path("/option/traces"),
        environ={"API_URL": "http://env", "PALMARES_TRACE_DIR": "/env/traces"},
        cwd=tmp_path,
    )
    assert settings.api_url == "http://option"
    assert settings.trace_dir == Path("/option/traces")


def test_explicit_env_file_replaces_the_default_one(tmp_path: Path) -> None:
    _stack_env(tmp_path, API_URL="http://default-file")
    other = tmp_path / "remote.env"
    other.write_text("API_URL=http://remote\n")
    assert resolve(env_file=other, environ={}, cwd=tmp_path).api_url == "http://remote"


def test_missing_default_env_file_is_fine_missing_explicit_one_is_a_usage_error(tmp_path: Path) -> None:
    assert resolve(environ={}, cwd=tmp_path).api_url is None
    with pytest.raises(UsageProblem) as caught:
        resolve(env_file=tmp_path / "absent.env", environ={}, cwd=tmp_path)
    assert caught.value.exit_code == EXIT_USAGE


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    _stack_env(tmp_path, API_URL="http://file")
    assert resolve(environ={"API_URL": ""}, cwd=tmp_path).api_url == "http://file"


def test_missing_configuration_says_how_to_provide_it(tmp_path: Path) -> None:
    settings = resolve(environ={}, cwd=tmp_path)
    for require, hint in (
        (settings.require_api_url, "API_URL"),
        (settings.require_token, "OPERATOR_TOKEN"),
        (settings.require_kafka, "KAFKA_BOOTSTRAP_SERVERS"),
    ):
        with pytest.raises(UsageProblem, match=hint):
            require()


def test_cli_reads_the_stack_env_of_the_working_directory(clean_env: Path, runner: CliRunner, closed_port: int) -> None:
    _stack_env(clean_env, API_URL=f"http://127.0.0.1:{closed_port}")
    result = runner.invoke(app, ["grille", "show", "2017"])
    # The file's URL was used: the API is unreachable there (3), not "no API URL" (2).
    assert result.exit_code == 3, result.output
    assert f"127.0.0.1:{closed_port}" in result.output


def test_cli_option_beats_environment_beats_file(
    clean_env: Path, runner: CliRunner, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack_env(clean_env, API_URL="http://file.invalid")
    monkeypatch.setenv("API_URL", "http://env.invalid")
    result = runner.invoke(app, ["--api-url", f"http://127.0.0.1:{closed_port}", "grille", "show", "2017"])
    assert result.exit_code == 3
    assert f"127.0.0.1:{closed_port}" in result.output
    assert "invalid" not in result.output


def test_cli_without_api_url_is_a_usage_error(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["grille", "show", "2017"])
    assert result.exit_code == 2
    assert "no API URL" in result.output


def test_cli_missing_explicit_env_file(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--env-file", "nope.env", "grille", "show", "2017"])
    assert result.exit_code == 2
    assert "nope.env" in result.output
