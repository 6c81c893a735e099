"""Shell completion of `palmares` (Typer's, through click's completion protocol, as bash calls it)."""

from __future__ import annotations

import pytest
from palmares_cli.main import app
from typer.testing import CliRunner


def complete(words: str) -> list[str]:
    """What bash would offer after `words` (the last word being completed)."""
    env = {"_PALMARES_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    result = CliRunner().invoke(app, [], env=env, prog_name="palmares")
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_commands_and_subcommands_complete() -> None:
    assert complete("palmares dl") == ["dlq"]
    assert set(complete("palmares dlq ")) == {"list", "replay"}
    assert "publish" in complete("palmares grille ")
    assert "--jaeger" in complete("palmares trace --j")


def test_the_bash_script_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Typer detects the calling shell from the process's ancestors (shellingham): a test run without a shell
    # among them (started in the background, under a runner) would get no script. Without detection,
    # `--show-completion` takes the shell's name; Typer reads the switch when it builds the command.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="palmares")
    assert result.exit_code == 0, result.output
    assert "complete -o default -F _palmares_completion palmares" in result.stdout
