"""What the mentions service tells a collectivité, in French: what a mention lacked, which service to declare.

Pure functions. Every message goes through the label's typesetting
(`palmares_label.french.typeset`): the French shown to collectivités (status
view, dossier page, award email) has its typographic apostrophes and its
non-breaking spaces inside « » and before : ; ! ?.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from palmares_contracts import Category, Evidence
from palmares_label.french import category_plural, count_in_words, in_words, quoted, typeset

from palmares_mentions.cues import Reason


@dataclass(frozen=True, slots=True)
class Quote:
    """A passage that points to a mention but is not evidence: why, where (None: the narrative), what it says."""

    reason: Reason
    action_title: str | None
    text: str


@dataclass(slots=True)
class Findings:
    """What one mention rule found in a dossier, source by source (an action's number, -1 for the narrative)."""

    text: dict[int, Evidence] = field(default_factory=dict)
    services: dict[int, tuple[str, ...]] = field(default_factory=dict)  # sufficient services declared, by action
    quotes: list[Quote] = field(default_factory=list)  # negated, intended or only spoken about
    outdated: list[tuple[str, str]] = field(default_factory=list)  # (action title, why it does not count)
    hints: list[tuple[str, str]] = field(default_factory=list)  # (action title, service label): no text for it
    inapplicable: list[str] = field(default_factory=list)  # labels of declared services not for the category
    titles: list[str] = field(default_factory=list)  # actions without a description whose title holds a term

    @property
    def sources(self) -> list[int]:
        """The distinct sources of evidence: actions in dossier order, then the narrative."""
        return sorted(set(self.text) | set(self.services), key=lambda s: (s < 0, s))


def _where(action_title: str | None) -> str:
    return "récit du dossier" if action_title is None else f"action « {action_title} »"


# Guillemets inside a quoted passage become the second level's quotes (“ ”), without their spaces.
_INNER = re.compile(r"«[ \u00a0\u202f]*|[ \u00a0\u202f]*»")


def _quoted(quote: Quote) -> str:
    inner = _INNER.sub(lambda m: "“" if "«" in m.group() else "”", quote.text)
    return f"{quoted(inner)} ({_where(quote.action_title)})"


def lacking(min_evidence: int, findings: Findings, category: Category) -> str | None:
    """What the dossier lacks for a mention (French, shown to the collectivité), if it came close."""
    quotes, found = findings.quotes, len(findings.sources)
    more = len(quotes) - 1
    others = f", et {count_in_words(more, 'autre passage', 'autres passages')}" if more else ""
    intentions = [q for q in quotes if q.reason is Reason.INTENTION]
    negations = [q for q in quotes if q.reason is Reason.NEGATION]
    topics = [q for q in quotes if q.reason is Reason.TOPIC]
    message: str | None = None
    if found:
        pieces = (
            "un seul élément probant" if found == 1 else count_in_words(found, "élément probant", "éléments probants")
        )
        message = f"{pieces} sur {in_words(min_evidence)} requis"
        if intentions:
            message += f" ; une intention ne compte pas : {_quoted(intentions[0])}"
    elif intentions and negations:
        message = f"aucun élément probant : une intention ({_quoted(intentions[0])}) et une négation ({_quoted(negations[0])})"
    elif intentions:
        message = f"seule une intention a été trouvée : {_quoted(intentions[0])}{others}"
    elif negations:
        message = f"le dossier indique ne pas (ou plus) le faire : {_quoted(negations[0])}{others}"
    elif topics:
        message = f"le dossier en parle sans décrire ce qui est fait : {_quoted(topics[0])}{others}"
    elif findings.outdated:
        title, why = findings.outdated[0]
        message = f"seule une action qui ne compte pas en témoigne : « {title} » ({why})"
    elif findings.titles:
        message = f"l’action « {findings.titles[0]} » n’est décrite que par son titre : décrivez ce qui est fait"
    elif findings.hints:
        title, label = findings.hints[0]
        message = (
            f"le service « {label} » est déclaré pour l’action « {title} », "
            "mais le texte de l’action ne décrit pas la pratique"
        )
    elif findings.inapplicable:
        message = f"le service « {findings.inapplicable[0]} » est déclaré, mais il ne s’applique pas aux {category_plural(category)}"
    return None if message is None else typeset(message)


def suggestion(action_title: str, service_label: str, matched_terms: Sequence[str]) -> str:
    """The advice to declare a service an action describes: « Votre action « … » semble relever du service « … » … »."""
    words = ", ".join(f"« {term} »" for term in matched_terms)
    noun = "Terme relevé" if len(matched_terms) == 1 else "Termes relevés"
    return typeset(
        f"Votre action « {action_title} » semble relever du service « {service_label} » : déclarez-le. {noun} : {words}."
    )
