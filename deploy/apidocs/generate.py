#!/usr/bin/env python3
"""Write (or check) docs/asyncapi/<service>.yaml and docs/openapi.json from the code.

    python deploy/apidocs/generate.py            # write them (`make asyncapi`)
    python deploy/apidocs/generate.py --check    # exit 1 and name the files that differ from the code

Exit status: 0 when written or up to date, 1 when `--check` found a difference.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from palmares_apidocs import SERVICES, asyncapi_yaml, openapi_json

ROOT = Path(__file__).resolve().parents[2]


def documents(docs: Path) -> dict[Path, str]:
    """Every generated document and its text, keyed by its path under `docs`."""
    found = {docs / "asyncapi" / f"{service}.yaml": asyncapi_yaml(service) for service in SERVICES}
    found[docs / "openapi.json"] = openapi_json()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    parser.add_argument(
        "--docs-dir", type=Path, default=ROOT / "docs", help="where the documents live (default: docs/)"
    )
    args = parser.parse_args(argv)
    docs = args.docs_dir.resolve()
    generated = documents(docs)
    # Building the runtimes installs the services' JSON log handler; keep this tool's output plain.
    logging.getLogger().handlers.clear()
    stale = []
    for path, text in generated.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if args.check:
            diff = difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path.relative_to(docs.parent)} (committed)",
                tofile=f"{path.relative_to(docs.parent)} (from the code)",
                n=2,
            )
            sys.stderr.writelines(list(diff)[:60])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    rel = [str(p.relative_to(docs.parent)) for p in stale]
    if args.check:
        if stale:
            print(f"out of date (run `make asyncapi`): {', '.join(rel)}", file=sys.stderr)
            return 1
        print(f"{len(generated)} API documents match the code")
        return 0
    print(f"wrote {', '.join(rel)}" if rel else f"{len(generated)} API documents already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
