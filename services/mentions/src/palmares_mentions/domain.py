"""Detection of the label's mentions in a dossier (pure, no I/O).

A mention's rule (in the grille) names the services and the French terms that
evidence it, the contextual terms that need a context, and the exclusions
(homonyms) that do not count. Evidence comes from the services declared by the actions
(a collectivité declares them: they are never negated), and from the text of
the actions (title and description) and of the narrative, read as a careful
jury member would: without case or accents, across inflections, split or glued
words and misspellings (`matcher`), and not where the dossier says it does *not*
do something or only *intends* to (`cues`). Every mention carries its evidence:
where, a snippet of the original text, the words or services; a mention found
only in negated or intended passages is reported as just missed, with a quote.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from palmares_contracts import Action, Evidence, Mention, MentionMiss, MentionRule

from palmares_mentions.cues import PEOPLE, ClauseCues, Reason, cue_marks, has_cue, read_clause
from palmares_mentions.french import fold, normalize, segment
from palmares_mentions.matcher import Kind, Occurrence, Reading, compile_rules

__all__ = ["Passage", "detect", "normalize", "passages"]

SNIPPET_RADIUS = 80  # characters of context on each side of the evidence
QUOTE_RADIUS = 70  # the same for the quote of a negated or intended passage, within its clause
_APOSTROPHES = ("'", "’", "ʼ")
_CLOSING = '.!?…»)"”'


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text of the dossier, and the action it belongs to (None: the narrative).

    An action's passage is its title, then its description from `body_start` on.
    """

    action_title: str | None
    text: str
    body_start: int = 0


def passages(actions: Iterable[Action], narrative: str) -> list[Passage]:
    """The passages of a dossier: each action (title, then description), then the narrative."""
    found = []
    for action in actions:
        title = action.title.strip()
        if action.description.strip():
            head = f"{title}{'' if title.endswith(tuple(_CLOSING)) else '.'} "
            found.append(Passage(action.title, head + action.description, len(head)))
        else:
            found.append(Passage(action.title, title))
    if narrative.strip():
        found.append(Passage(None, narrative))
    return found


@dataclass(frozen=True, slots=True)
class _Rejected:
    reason: Reason
    passage: Passage
    quote: str


class _Analysis:
    """Sentences, clauses and cues of a passage read by the matcher (computed once, on demand).

    Most passages that hold a term have no negation nor intention word at all:
    they are not segmented into clauses unless a contextual term needs its sentence.
    """

    __slots__ = ("_clauses", "_cues", "has_cues", "reading")

    def __init__(self, reading: Reading) -> None:
        self.reading = reading
        self.has_cues = has_cue(reading.words)
        self._clauses: tuple[list[str], list[int], list[int], list[bool]] | None = None
        self._cues: dict[int, ClauseCues] = {}

    def _segmented(self) -> tuple[list[str], list[int], list[int], list[bool]]:
        if self._clauses is None:
            folded = list(map(fold, self.reading.words))
            sentence_of, clause_of = segment(self.reading.text, self.reading.spans, folded)
            self._clauses = (folded, sentence_of, clause_of, cue_marks(folded))
        return self._clauses

    @property
    def sentence_of(self) -> list[int]:
        return self._segmented()[1]

    @property
    def clause_of(self) -> list[int]:
        return self._segmented()[2]

    def _is_ne(self, i: int) -> bool:
        word = self.reading.words[i].lower()
        end = self.reading.spans[i][1]
        return word == "ne" or (word == "n" and self.reading.text[end : end + 1] in _APOSTROPHES)

    def _clause_cues(self, clause: int) -> ClauseCues:
        found = self._cues.get(clause)
        if found is None:
            folded, _, clause_of, marks = self._segmented()
            start, end = bisect_left(clause_of, clause), bisect_right(clause_of, clause)
            describes_people = start > 0 and folded[start] == "qui" and folded[start - 1] in PEOPLE
            found = read_clause(folded, marks, self._is_ne, start, end, describes_people)
            self._cues[clause] = found
        return found

    def reason(self, token: int) -> Reason | None:
        """Why an occurrence starting at `token` is not evidence (negated, intended), if it is not."""
        if not self.has_cues:
            return None
        folded, _, clause_of, _ = self._segmented()
        clause = clause_of[token]
        found = self._clause_cues(clause).reason(token)
        if found is None and clause > 0:
            # A restrictive relative shares the negation of its main clause:
            # « nous n’avons pas d’agent qui télétravaille ».
            start = bisect_left(clause_of, clause)
            spans, text = self.reading.spans, self.reading.text
            restrictive = folded[start] in ("qui", "dont") and "," not in text[spans[start - 1][1] : spans[start][0]]
            if restrictive and self._clause_cues(clause - 1).negated:
                return Reason.NEGATION
        return found

    def excerpt(self, occurrence: Occurrence, radius: int, within: list[int] | None = None) -> str:
        """The original text around an occurrence, within the passage or its clause (`within`: clause_of)."""
        text, spans = self.reading.text, self.reading.spans
        low, high = 0, len(text)
        if within is not None:
            which = within[occurrence.start]
            first, last = bisect_left(within, which), bisect_right(within, which) - 1
            low, high = spans[first][0], spans[last][1]
            while high < len(text) and text[high] in _CLOSING:
                high += 1
        begin, end = spans[occurrence.start][0], spans[occurrence.end - 1][1]
        left, right = max(low, begin - radius), min(high, end + radius)
        if left > low:  # cut on a word boundary
            space = text.find(" ", left, begin)
            left = space + 1 if space >= 0 else left
        if right < high:
            space = text.rfind(" ", end, right)
            right = space if space >= 0 else right
        excerpt = " ".join(text[left:right].split())
        return ("…" if left > low else "") + excerpt + ("…" if right < high else "")


def _judge(
    analysis: _Analysis, occurrences: list[Occurrence], body_start: int
) -> tuple[list[Occurrence], list[tuple[Reason, Occurrence]]]:
    """The occurrences of one rule in one passage that are evidence, and those negated or intended.

    Contextual terms count with a context of their group in their sentence, and no exclusion there.
    A title names a topic (« Télétravail »): when the description speaks of it
    only to negate it or announce it, the title is judged as the description.
    """
    exclusions = [o for o in occurrences if o.phrase.kind is Kind.EXCLUSION]
    contexts = [o for o in occurrences if o.phrase.kind is Kind.CONTEXT]
    accepted: list[Occurrence] = []
    rejected: list[tuple[Reason, Occurrence]] = []
    for o in occurrences:
        kind = o.phrase.kind
        if kind not in (Kind.TERM, Kind.WEAK) or any(x.start <= o.start < x.end for x in exclusions):
            continue
        if kind is Kind.WEAK:
            sentence = analysis.sentence_of[o.start]
            group = o.phrase.group
            context = [c for c in contexts if c.phrase.group == group and analysis.sentence_of[c.start] == sentence]
            if not context or any(analysis.sentence_of[x.start] == sentence for x in exclusions):
                continue
        reason = analysis.reason(o.start)
        if reason is None:
            accepted.append(o)
            if kind is Kind.WEAK:
                accepted.append(context[0])
        else:
            rejected.append((reason, o))
    if body_start and accepted and rejected:
        spans = analysis.reading.spans
        in_title = [o for o in accepted if spans[o.start][0] < body_start]
        if len(in_title) == len(accepted) and any(spans[o.start][0] >= body_start for _, o in rejected):
            verdict = next(r for r, o in rejected if spans[o.start][0] >= body_start)
            return [], rejected + [(verdict, o) for o in in_title if o.phrase.kind is not Kind.CONTEXT]
    return accepted, rejected


def _where(passage: Passage) -> str:
    return "récit du dossier" if passage.action_title is None else f"action « {passage.action_title} »"


def _lacking(rule: MentionRule, found: int, rejected: list[_Rejected]) -> str | None:
    """What the dossier lacks for a mention (French, shown to the collectivité), if it came close."""

    def quoted(r: _Rejected) -> str:
        return f"“{r.quote}” ({_where(r.passage)})"

    others = f", et {len(rejected) - 1} autre(s) passage(s)" if len(rejected) > 1 else ""
    intentions = [r for r in rejected if r.reason is Reason.INTENTION]
    negations = [r for r in rejected if r.reason is Reason.NEGATION]
    if found:
        count = "un seul élément probant" if found == 1 else f"{found} éléments probants"
        lacking = f"{count} sur {rule.min_evidence} requis"
        if intentions:
            lacking += f" ; une intention ne compte pas : {quoted(intentions[0])}"
        return lacking
    if intentions and negations:
        return (
            f"aucun élément probant : une intention ({quoted(intentions[0])}) et une négation ({quoted(negations[0])})"
        )
    if intentions:
        return f"seule une intention a été trouvée : {quoted(intentions[0])}{others}"
    if negations:
        return f"le dossier indique ne pas (ou plus) le faire : {quoted(negations[0])}{others}"
    return None


def _relevant(occurrences: list[Occurrence]) -> bool:
    """Whether a rule's occurrences in a passage may be evidence: a term, or a contextual term and its context."""
    groups = {o.phrase.group for o in occurrences if o.phrase.kind is Kind.WEAK}
    return any(
        o.phrase.kind is Kind.TERM or (o.phrase.kind is Kind.CONTEXT and o.phrase.group in groups) for o in occurrences
    )


def detect(
    actions: Iterable[Action], narrative: str, rules: Iterable[MentionRule]
) -> tuple[tuple[Mention, ...], tuple[MentionMiss, ...]]:
    """The mentions a dossier earns, with evidence; and those missed, with what lacked."""
    rules = tuple(rules)
    matcher = compile_rules(rules)
    actions = list(actions)
    evidence: list[list[Evidence]] = [[] for _ in rules]
    for action in actions:
        codes: dict[int, list[str]] = {}
        for code in action.services:
            for number in matcher.rules_of_service.get(code, ()):
                codes.setdefault(number, []).append(code)
        for number, found in codes.items():
            evidence[number].append(Evidence(action_title=action.title, service_codes=tuple(found)))

    rejected: list[list[_Rejected]] = [[] for _ in rules]
    for passage in passages(actions, narrative):
        reading = matcher.read(passage.text)
        if reading is None or not reading.occurrences:
            continue
        by_rule: dict[int, list[Occurrence]] = {}
        for o in reading.occurrences:
            by_rule.setdefault(o.phrase.rule, []).append(o)
        analysis: _Analysis | None = None
        for number, occurrences in by_rule.items():
            if not _relevant(occurrences):
                continue
            analysis = analysis or _Analysis(reading)
            accepted, refused = _judge(analysis, occurrences, passage.body_start)
            if accepted:
                evidence[number].append(
                    Evidence(
                        action_title=passage.action_title,
                        snippet=analysis.excerpt(accepted[0], SNIPPET_RADIUS),
                        matched_terms=tuple(dict.fromkeys(o.phrase.term for o in accepted)),
                    )
                )
            for reason, o in refused:  # one quote per clause, however many terms it holds
                rejection = _Rejected(reason, passage, analysis.excerpt(o, QUOTE_RADIUS, analysis.clause_of))
                if rejection not in rejected[number]:
                    rejected[number].append(rejection)

    mentions: list[Mention] = []
    missed: list[MentionMiss] = []
    for number, rule in enumerate(rules):
        if len(evidence[number]) >= rule.min_evidence:
            mentions.append(Mention(code=rule.code, label=rule.label, evidence=tuple(evidence[number])))
            continue
        lacking = _lacking(rule, len(evidence[number]), rejected[number])
        if lacking is not None:
            missed.append(MentionMiss(code=rule.code, label=rule.label, lacking=lacking))
    return tuple(mentions), tuple(missed)
