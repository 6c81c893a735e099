"""Every user-facing French text passes LanguageTool's French rules (less the reviewed allowlist).

One LanguageTool run checks the letters, the pages and the API's error
messages, and a canary text with known mistakes: the check must find those, or
it is not checking anything.
"""

from __future__ import annotations

import pytest

from tools.french.check import describe, run
from tools.french.texts import all_texts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CANARY = "canary"
# Each mistake the letters once made, and the rule that must catch it.
CANARY_TEXT = (
    "Bonjour,\n\nLe dossier de Le Mans a été reçu. Il manque 1,2 point(s) pour la prochaine arobase: "
    "L'équipe du label vous remercie!"
)
CANARY_RULES = {"DE_LE", "APOS_TYP", "FRENCH_WHITESPACE", "PALMARES_PLURIEL_ENTRE_PARENTHESES"}


def test_every_user_facing_french_text_passes_the_french_check() -> None:
    texts = all_texts()
    assert any(k.startswith("email ") for k in texts) and any(k.startswith("page ") for k in texts)
    assert sum(k.startswith("api ") for k in texts) > 40, "the API's error messages were not found in the code"
    outcome = run({**texts, CANARY: CANARY_TEXT})
    print("\n" + describe(outcome))
    caught = {f.rule for f in outcome.findings if f.text_id == CANARY}
    assert caught >= CANARY_RULES, f"the check missed known mistakes: {CANARY_RULES - caught}"
    refused = [f for f in outcome.refused if f.text_id != CANARY]
    assert not refused and not outcome.unused, describe(outcome)
