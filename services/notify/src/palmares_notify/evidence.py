"""Why a mention was granted, told as one short French sentence citing the action (pure).

The mentions service sends, for each mention, its evidence: the actions (or
the dossier's narrative) and, in each, the grille services declared or the
words found. A letter does not list those raw terms (« données, licence, open
data »): it cites the most convincing action, a declared service first, in one
sentence: « Votre action « Ouverture des données » met en œuvre le service
« Portail open data ». »
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from palmares_label.french import in_words, quoted, typographic

# What each mention of the grilles is about, with its article, to say that an
# action « porte sur » it. A mention missing here (a new one in a later grille)
# is told without its theme: « … en témoigne ».
THEMES: Mapping[str, str] = {
    "numerique_educatif": "le numérique éducatif",
    "reseaux_sociaux": "les réseaux sociaux",
    "gouvernement_ouvert": "l’ouverture des données publiques",
    "cooperation_internationale": "la coopération internationale",
    "solidarite_numerique": "la solidarité numérique",
    "teletravail": "le télétravail",
    "accessibilite": "l’accessibilité numérique",
    "democratie_locale": "la démocratie locale",
    "mediation_numerique": "la médiation numérique",
    "transition_ecologique": "la transition écologique",
}


def _services(codes: Sequence[str], labels: Mapping[str, str]) -> str:
    names = [quoted(typographic(labels.get(code, code))) for code in dict.fromkeys(codes)]
    if len(names) == 1:
        return f"le service {names[0]}"
    return "les services " + ", ".join(names[:-1]) + f" et {names[-1]}"


def _others(count: int) -> str:
    if count == 0:
        return ""
    if count == 1:
        return ", comme une autre action de votre dossier,"
    return f", comme {in_words(count)} autres actions de votre dossier,"


def evidence_sentence(mention: Mapping[str, Any], service_labels: Mapping[str, str] | None = None) -> str:
    """One French sentence telling why `mention` was granted; empty when it carries no evidence.

    The action cited is the first that declares a service of the mention, else
    the first whose description speaks of it, else the narrative.
    """
    labels = service_labels or {}
    by_action: dict[str | None, dict[str, list[str]]] = {}
    for ev in mention.get("evidence") or ():
        found = by_action.setdefault(ev.get("action_title") or None, {"services": [], "terms": []})
        found["services"] += ev.get("service_codes") or []
        found["terms"] += ev.get("matched_terms") or []
    if not by_action:
        return ""
    actions = [title for title in by_action if title is not None]
    with_service = [title for title in actions if by_action[title]["services"]]
    cited = next(iter(with_service or actions), None)
    theme = THEMES.get(str(mention.get("code", "")))
    if cited is None:
        return f"Le récit de votre dossier porte sur {theme}." if theme else "Le récit de votre dossier en témoigne."
    subject = f"Votre action {quoted(typographic(cited))}{_others(len(actions) - 1)}"
    services = by_action[cited]["services"]
    if services:
        return f"{subject} met en œuvre {_services(services, labels)}."
    if theme:
        return f"{subject} porte sur {theme}."
    return f"{subject} en témoigne."
