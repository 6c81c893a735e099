"""The development tools of the mention detector find the repository by its content, not by a fixed depth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.mentions.repository import ROOT, repository_root


def test_the_tools_find_this_checkout() -> None:
    assert (ROOT / "tools" / "mentions" / "repository.py").is_file()
    assert (ROOT / "tests" / "eval" / "mentions").is_dir()


def test_the_nearest_checkout_above_a_file_is_found_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "deploy" / "grilles").mkdir(parents=True)
    (tmp_path / "Makefile").write_text("all:\n", encoding="utf-8")
    deep = tmp_path / "a" / "b" / "c" / "tool.py"
    assert repository_root(deep) == tmp_path.resolve()


def test_a_file_outside_any_checkout_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no repository"):
        repository_root(tmp_path / "site-packages" / "tool.py")
