"""The mentions of the demo campaign: what `make run` would detect, dossier by dossier, without a stack.

    python -m tools.mentions.demo [--campaign deploy/demo/campaign-2017.json]    (from the repository root)

Each dossier is built as `palmares demo` submits it (its themes turned into
declared services), the collectivité's category is the one the submission
service gives it (reference data of the edition), and `domain.detect` runs
under the campaign's grille. Prints each collectivité's mentions and
suggested services, then how many dossiers get each mention.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from palmares_cli.demo import action_body, load_themes
from palmares_contracts import Action, Category, GrilleBody
from palmares_mentions.domain import Detection, detect
from palmares_submission.refdata import category_of, lookup_for_edition

from tools.mentions.repository import GRILLES_DIR, ROOT

CAMPAIGN = ROOT / "deploy" / "demo" / "campaign-2017.json"
THEMES = ROOT / "deploy" / "demo" / "themes.json"


def detections(
    campaign: dict[str, Any], themes: dict[str, list[str]], grille: GrilleBody
) -> list[tuple[str, Detection]]:
    """Each collectivité's name and what the mentions service detects in its demo dossier."""
    found = []
    for entry in campaign["collectivites"]:
        ref = lookup_for_edition(str(entry["code"]), int(campaign["edition"]))
        if ref is None:
            raise ValueError(f"{entry['code']}: not in the reference data")
        actions = [Action.model_validate(action_body(a, themes)) for a in entry["dossier"]["actions"]]
        category = Category(category_of(ref))
        found.append((str(entry["name"]), detect(actions, entry["dossier"].get("narrative", ""), grille, category)))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mentions of the demo campaign.")
    parser.add_argument("--campaign", type=Path, default=CAMPAIGN)
    parser.add_argument("--themes", type=Path, default=THEMES)
    args = parser.parse_args(argv)
    campaign = json.loads(args.campaign.read_text(encoding="utf-8"))
    grille = GrilleBody.model_validate_json((GRILLES_DIR / f"grille-{campaign['edition']}.json").read_text("utf-8"))
    found = detections(campaign, load_themes(args.themes), grille)
    counts: Counter[str] = Counter()
    for name, detection in found:
        codes = [m.code for m in detection.mentions]
        counts.update(codes)
        suggested = ", ".join(s.service_code for s in detection.suggestions) or "—"
        print(f"{name:<32} {', '.join(codes) or '—'}   [suggested: {suggested}]")
    print(f"\n{len(found)} dossiers")
    for rule in grille.mentions:
        print(f"  {rule.label:<28} {counts[rule.code]:>3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
