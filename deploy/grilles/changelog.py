#!/usr/bin/env python3
"""Check a grille file's changelog against the grille it replaces, or rewrite it.

    python deploy/grilles/changelog.py OLD.json NEW.json          # print, check
    python deploy/grilles/changelog.py OLD.json NEW.json --write  # rewrite NEW's changelog

The computed changelog is printed as JSON on stdout. Exit status: 0 when NEW's
`changelog` matches it, 1 when it differs (the differences go to stderr), 2 when
a file cannot be read or is not a valid `GrilleBody`. Differences that no
changelog entry expresses (mentions, enjeux, categories, title, deadline) are
reported on stderr as notes and do not change the status.

The diff and its rules (service entries, and `thresholds` entries for the
arobase thresholds) live in the CLI package (`palmares_cli.grille_changelog`,
also behind `palmares grille diff A B`; README.md, "The changelog"): this script
is a thin wrapper for the command line above. Dependencies: the standard
library, pydantic and `palmares_contracts`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path

if importlib.util.find_spec("palmares_cli") is None:  # run from a checkout without the packages installed
    _ROOT = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(_ROOT / "contracts" / "src"), str(_ROOT / "services" / "cli" / "src")]

from palmares_cli.grille_changelog import (
    compare,
    diff,
    dump_grille,
    entry_json,
    load_grille,
    merge_motifs,
    other_differences,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compute the changelog of NEW against OLD and check NEW's changelog.")
    parser.add_argument("old", type=Path, help="previous grille (JSON GrilleBody)")
    parser.add_argument("new", type=Path, help="new grille (JSON GrilleBody)")
    parser.add_argument(
        "--write", action="store_true", help="rewrite NEW's changelog with the computed one, keeping matching motifs"
    )
    args = parser.parse_args(argv)
    try:
        old, new = load_grille(args.old), load_grille(args.new)
    except (OSError, ValueError) as exc:
        print(f"grille illisible ou invalide : {exc}", file=sys.stderr)
        return 2
    computed = diff(old, new)
    print(json.dumps([entry_json(e) for e in computed], ensure_ascii=False, indent=2))
    for note in other_differences(old, new):
        print(f"note (hors changelog) : {note}", file=sys.stderr)
    if args.write:
        data = json.loads(args.new.read_text(encoding="utf-8"))
        data["changelog"] = [entry_json(e) for e in merge_motifs(computed, new.changelog)]
        args.new.write_text(dump_grille(data), encoding="utf-8")
        print(f"{args.new} : changelog réécrit ({len(computed)} entrées)", file=sys.stderr)
        return 0
    problems = compare(new.changelog, computed)
    for problem in problems:
        print(f"changelog de {args.new} : {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
