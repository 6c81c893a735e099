"""Detection of the label's mentions in a dossier, and of the services its text describes (pure, no I/O).

A mention's rule (in the grille) names the French terms that evidence it, the
contextual terms that need a context, the exclusions (homonyms) that do not
count, and the services that relate to it. Evidence is read as a careful jury
member would:

- only in the actions that count at the dossier deadline (the label's 2-year
  rule, `palmares_label.actions`) and in the narrative;
- in the text of the actions (title and description) and of the narrative:
  without case or accents, across inflections, split or glued words and
  misspellings (`matcher`), and not where the dossier says it does *not* do
  something or only *intends* to (`cues`);
- from the services an action declares, if they apply to the collectivité's
  category: a declared service is evidence on its own only when the rule says
  it suffices (`sufficient_services`); otherwise it is a hint (the rule's
  contextual terms need no context in that action's text);
- `min_evidence` distinct sources: each action once, the narrative once.

Every mention carries its evidence: where, a snippet of the original text, the
words or services; a mention that only negated, intended, outdated or
undescribed evidence points to is reported as just missed, with what lacked.
The same reading suggests the grille services an action describes without
declaring them (the services' own `terms`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from palmares_contracts import (
    Action,
    Category,
    Evidence,
    GrilleBody,
    GrilleService,
    Mention,
    MentionMiss,
    MentionRule,
    ServiceSuggestion,
)
from palmares_label.actions import why_not_counted

from palmares_mentions.cues import PEOPLE, ClauseCues, Reason, cue_marks, has_cue, read_clause
from palmares_mentions.french import fold, normalize, segment
from palmares_mentions.matcher import Kind, Matcher, Occurrence, Reading, compile_rules
from palmares_mentions.messages import Findings, Quote, lacking, suggestion

__all__ = ["Detection", "Passage", "detect", "normalize", "passages"]

SNIPPET_RADIUS = 80  # characters of context on each side of the evidence
QUOTE_RADIUS = 70  # the same for the quote of a negated or intended passage, within its clause
_APOSTROPHES = ("'", "’", "ʼ")
_CLOSING = '.!?…»)"”'


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text of the dossier, and the action it belongs to (None: the narrative).

    An action's passage is its title, then its description from `body_start` on.
    `source` numbers the action in the dossier (-1: the narrative).
    """

    action_title: str | None
    text: str
    body_start: int = 0
    source: int = -1


def passage_of(action: Action, source: int) -> Passage:
    """The passage of one action: its title, then its description."""
    title = action.title.strip()
    if action.description.strip():
        head = f"{title}{'' if title.endswith(tuple(_CLOSING)) else '.'} "
        return Passage(action.title, head + action.description, len(head), source)
    return Passage(action.title, title, 0, source)


def passages(actions: Iterable[Action], narrative: str) -> list[Passage]:
    """The passages of a dossier: each action (title, then description), then the narrative."""
    found = [passage_of(action, source) for source, action in enumerate(actions)]
    if narrative.strip():
        found.append(Passage(None, narrative))
    return found


@dataclass(frozen=True, slots=True)
class Detection:
    """What the mentions service finds in a dossier."""

    mentions: tuple[Mention, ...]
    missed: tuple[MentionMiss, ...]
    suggestions: tuple[ServiceSuggestion, ...]


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
    analysis: _Analysis, occurrences: list[Occurrence], body_start: int, hinted: bool = False
) -> tuple[list[Occurrence], list[tuple[Reason, Occurrence]]]:
    """The occurrences of one rule in one passage that are evidence, and those negated or intended.

    Contextual terms count with a context of their group in their sentence, and no exclusion there;
    with a hint (the action declares one of the rule's services), without a context. A title is
    the topic of its whole description: its words are the context of every sentence, and the
    other way round (« Partenariat avec Bad Säckingen. … les élèves allemands … »).
    A title names a topic (« Télétravail »): when the description speaks of it only to negate
    it, announce it or as a homonym, the title is judged as the description.
    """
    spans = analysis.reading.spans

    def in_title(o: Occurrence) -> bool:
        return bool(body_start) and spans[o.start][0] < body_start

    exclusions = [o for o in occurrences if o.phrase.kind is Kind.EXCLUSION]
    contexts = [o for o in occurrences if o.phrase.kind is Kind.CONTEXT]
    accepted: list[Occurrence] = []
    rejected: list[tuple[Reason, Occurrence]] = []
    homonym_in_body = False
    for o in occurrences:
        kind = o.phrase.kind
        if kind not in (Kind.TERM, Kind.WEAK):
            continue
        if any(x.start <= o.start < x.end for x in exclusions):
            homonym_in_body = homonym_in_body or not in_title(o)
            continue
        context: list[Occurrence] = []
        if kind is Kind.WEAK:
            sentence = analysis.sentence_of[o.start]
            group = o.phrase.group
            context = [
                c
                for c in contexts
                if c.phrase.group == group and (analysis.sentence_of[c.start] == sentence or in_title(c) or in_title(o))
            ]
            if (not context and not hinted) or any(analysis.sentence_of[x.start] == sentence for x in exclusions):
                continue
        reason = analysis.reason(o.start)
        if reason is None:
            accepted.append(o)
            if context:
                accepted.append(context[0])
        else:
            rejected.append((reason, o))
    if body_start and accepted and all(in_title(o) for o in accepted if o.phrase.kind is not Kind.CONTEXT):
        body_rejected = [(r, o) for r, o in rejected if not in_title(o)]
        if body_rejected:
            verdict = body_rejected[0][0]
            return [], rejected + [(verdict, o) for o in accepted if o.phrase.kind is not Kind.CONTEXT]
        if homonym_in_body:  # « Coffre-fort numérique des familles » over « … un coffre-fort numérique personnel »
            return [], rejected
    return accepted, rejected


def _relevant(occurrences: list[Occurrence], hinted: bool) -> bool:
    """Whether a rule's occurrences in a passage may be evidence: a term, or a contextual term and its context (or a hint)."""
    groups = {o.phrase.group for o in occurrences if o.phrase.kind is Kind.WEAK}
    return any(
        o.phrase.kind is Kind.TERM
        or (o.phrase.kind is Kind.WEAK and hinted)
        or (o.phrase.kind is Kind.CONTEXT and o.phrase.group in groups)
        for o in occurrences
    )


@dataclass(frozen=True, slots=True)
class _RuleSet:
    """The rules read in a dossier: the mention rules, then one rule per suggestible service; facts of the services."""

    rules: tuple[MentionRule, ...]
    mentions: int  # rules[:mentions] are the mention rules
    services: tuple[GrilleService, ...]  # the service of rules[mentions + i]
    labels: dict[str, str]  # every service of the grille: code → label
    enjeu_of: dict[str, str]
    applicable: dict[Category, frozenset[str]]  # the service codes that apply to each category

    @property
    def service_rules(self) -> frozenset[int]:
        """The numbers of the services' rules."""
        return frozenset(range(self.mentions, len(self.rules)))


_LAST_SETS: list[tuple[tuple[MentionRule, ...], tuple[GrilleService, ...], _RuleSet]] = []


def _rule_set(grille: GrilleBody) -> _RuleSet:
    """The rules of a grille, built once per grille (found by the identity of its tuples, as `compile_rules`)."""
    for mentions, services, found in _LAST_SETS:
        if mentions is grille.mentions and services is grille.services:
            return found
    suggestible = tuple(s for s in grille.services if s.terms)
    found = _RuleSet(
        rules=grille.mentions
        + tuple(MentionRule(code=s.code, label=s.label, terms=s.terms, exclusions=s.exclusions) for s in suggestible),
        mentions=len(grille.mentions),
        services=suggestible,
        labels={s.code: s.label for s in grille.services},
        enjeu_of={s.code: s.enjeu for s in grille.services},
        applicable={c: frozenset(s.code for s in grille.services if c in s.applies_to) for c in Category},
    )
    _LAST_SETS.insert(0, (grille.mentions, grille.services, found))
    del _LAST_SETS[8:]
    return found


def _evidence(passage: Passage, analysis: _Analysis, accepted: list[Occurrence]) -> Evidence:
    return Evidence(
        action_title=passage.action_title,
        snippet=analysis.excerpt(accepted[0], SNIPPET_RADIUS),
        matched_terms=tuple(dict.fromkeys(o.phrase.term for o in accepted)),
    )


def detect(actions: Iterable[Action], narrative: str, grille: GrilleBody, category: Category) -> Detection:
    """The mentions a dossier earns, with evidence; those missed, with what lacked; the services to declare."""
    rule_set = _rule_set(grille)
    rules, count = rule_set.rules, rule_set.mentions
    matcher = compile_rules(rules)
    actions = list(actions)
    deadline = grille.effective_deadline
    applicable, labels, enjeu_of = rule_set.applicable[category], rule_set.labels, rule_set.enjeu_of
    declared = {code for action in actions for code in action.services}
    findings = [Findings() for _ in range(count)]
    suggestions: dict[str, ServiceSuggestion] = {}
    # A suggestion never adds a service to an enjeu its action already declares, nor two to one enjeu:
    # the words that describe a service often describe its neighbours too (precision first).
    suggested_enjeux: set[tuple[int, str]] = set()

    readings: list[tuple[Passage, str | None, frozenset[int]]] = []
    for source, action in enumerate(actions):
        outdated = why_not_counted(action, deadline)
        hints: set[int] = set()
        if outdated is None:
            for number, codes in _declared_by_rule(matcher, action.services, count).items():
                useful = [c for c in codes if c in applicable]
                rule = rules[number]
                findings[number].inapplicable += [labels.get(c, c) for c in codes if c not in applicable]
                sufficient = tuple(c for c in useful if c in rule.sufficient_services)
                if sufficient:
                    findings[number].services[source] = sufficient
                elif useful:
                    hints.add(number)
                    findings[number].hints += [(action.title, labels.get(c, c)) for c in useful]
        readings.append((passage_of(action, source), outdated, frozenset(hints)))
    if narrative.strip():
        readings.append((Passage(None, narrative), None, frozenset()))

    # The services that cannot be suggested are not even looked for (most of a dossier's text
    # names services of the enjeux it declares, or already suggested).
    unsuggestible = {
        count + i for i, s in enumerate(rule_set.services) if s.code in declared or s.code not in applicable
    }
    for passage, outdated, hinted in readings:
        ignored = rule_set.service_rules if outdated is not None or passage.source < 0 else unsuggestible
        reading = matcher.read(passage.text, matcher.pairs_of(hinted) if hinted else frozenset(), ignored)
        if reading is None or not reading.occurrences:
            continue
        by_rule: dict[int, list[Occurrence]] = {}
        for o in reading.occurrences:
            by_rule.setdefault(o.phrase.rule, []).append(o)
        analysis: _Analysis | None = None
        for number, occurrences in by_rule.items():
            is_mention = number < count
            if not is_mention:
                if outdated is not None or passage.source < 0:
                    continue  # suggestions name a counted action
                service = rule_set.services[number - count]
                enjeu = (passage.source, service.enjeu)
                if (
                    service.code in declared
                    or service.code not in applicable
                    or service.code in suggestions
                    or enjeu in suggested_enjeux
                    or any(enjeu_of.get(c) == service.enjeu for c in actions[passage.source].services)
                ):
                    continue  # judged only if it could be suggested: most services of a dossier cannot
            if not _relevant(occurrences, number in hinted):
                continue
            analysis = analysis or _Analysis(reading)
            accepted, refused = _judge(analysis, occurrences, passage.body_start, number in hinted)
            if not is_mention:
                if accepted:
                    suggested_enjeux.add(enjeu)
                    unsuggestible.add(number)
                    evidence = _evidence(passage, analysis, accepted)
                    suggestions.setdefault(
                        service.code,
                        ServiceSuggestion(
                            action_title=passage.action_title or "",
                            service_code=service.code,
                            service_label=service.label,
                            matched_terms=evidence.matched_terms,
                            snippet=evidence.snippet,
                            message=suggestion(passage.action_title or "", service.label, evidence.matched_terms),
                        ),
                    )
                continue
            found = findings[number]
            if accepted and outdated is not None:
                found.outdated.append((passage.action_title or "", outdated))
            elif accepted and passage.source >= 0 and not passage.body_start:
                found.titles.append(passage.action_title or "")  # a title alone names, it does not describe
            elif accepted:
                found.text[passage.source] = _evidence(passage, analysis, accepted)
            if outdated is None:
                for reason, o in refused:  # one quote per clause, however many terms it holds
                    quote = Quote(reason, passage.action_title, analysis.excerpt(o, QUOTE_RADIUS, analysis.clause_of))
                    if quote not in found.quotes:
                        found.quotes.append(quote)

    mentions: list[Mention] = []
    missed: list[MentionMiss] = []
    for number, rule in enumerate(rules[:count]):
        found = findings[number]
        sources = found.sources
        if sources and len(sources) >= rule.min_evidence:
            pieces: list[Evidence] = []
            for source in sources:
                text = found.text.get(source)
                sufficient = found.services.get(source, ())
                if text is None:
                    pieces.append(Evidence(action_title=actions[source].title, service_codes=sufficient))
                else:
                    pieces.append(text.model_copy(update={"service_codes": sufficient}) if sufficient else text)
            mentions.append(Mention(code=rule.code, label=rule.label, evidence=tuple(pieces)))
            continue
        what = lacking(rule.min_evidence, found, category)
        if what is not None:
            missed.append(MentionMiss(code=rule.code, label=rule.label, lacking=what))
    return Detection(tuple(mentions), tuple(missed), tuple(suggestions.values()))


def _declared_by_rule(matcher: Matcher, services: Iterable[str], count: int) -> dict[int, list[str]]:
    """The services an action declares, by the mention rule (numbered below `count`) that names them."""
    codes: dict[int, list[str]] = {}
    for code in services:
        for number in matcher.rules_of_service.get(code, ()):
            if number < count:
                codes.setdefault(number, []).append(code)
    return codes
