"""Where the mention tools find the repository's data, whatever the current directory."""

from __future__ import annotations

from tools.repository import repository_root

ROOT = repository_root()
GRILLES_DIR = ROOT / "deploy" / "grilles"
