"""Negation and intention in French clauses: what makes a term occurrence *not* evidence.

A jury does not count « nous n’avons pas encore de tiers-lieu » or « nous
envisageons un espace de coworking ». These cues are French grammar, not grille
data: they hold for every edition. Scopes:

- verbal negation (ne … pas/plus/jamais/rien/guère, aucun, ni … ni, « pas
  encore », « pas de ») and cessation (« a fermé ses portes », « abandonné »)
  cover their whole clause: the term may come before (« le télétravail n’est
  pas autorisé ») or after;
- « sans », « faute de », « absence de » cover the few words that follow;
- passive, conditional, future and nominal intentions (« est envisagé »,
  « devrait », « ouvrira », any verb in the future or the conditional such as
  « interviendra », « à l’étude », « prévu », « d’ici ») cover their clause;
  first-person and present-tense intention verbs (« nous souhaitons », « la
  commune prévoit ») cover what follows them in the clause, so « forts du
  succès de notre page Facebook, nous souhaitons ouvrir un compte Instagram »
  keeps the page as evidence;
- « projet de … », « le futur … » cover the next few words (« les habitants ont
  choisi en ligne les aménagements du futur parc » is done), « projet de » only
  unless the clause says it came true (« depuis », « inauguré »);
- a relative clause that describes people (« les habitants qui n’arrivent pas à
  faire leurs démarches ») says who is helped: its negation denies nothing.

Clauses are cut by `french.segment`. Words are compared folded (no case, no
accents); « ne » is recognised on the original word so that « né en 2015 » is
not a negation.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import compress

from palmares_mentions.french import fold


class Reason(enum.Enum):
    """Why a term occurrence is not evidence."""

    NEGATION = "negation"
    INTENTION = "intention"
    TOPIC = "topic"  # the subject of a study, a talk, a debate: spoken about, not done


# --- negation -------------------------------------------------------------------------------------

# Negative words that negate their clause on their own.
_NEGATIVE_ALONE = frozenset({"aucun", "aucune", "aucuns", "aucunes", "guere", "nullement", "ni"})
# Particles that need « ne »/« n’ » in the clause (« plus » is also a comparative, « rien » rarely stands alone).
_PARTICLES_WITH_NE = frozenset({"pas", "plus", "jamais", "rien"})
# « pas » without « ne », as written in titles and lists: « Pas encore de tiers-lieu ».
_PAS_FOLLOWERS = frozenset({"encore", "de", "d", "du", "des", "un", "une", "question"})
# « n’hésitez pas », « pas seulement », « pas à pas », « plus que jamais »: not negations.
_NOT_NEGATING_BEFORE = frozenset({"hesitez", "hesitent", "hesite", "manquez", "manquent", "oubliez", "que", "pas"})
_NOT_NEGATING_AFTER = frozenset({"seulement", "uniquement", "que", "qu", "moins", "simplement", "forcement", "a"})
# Cessation: the action stopped, so it is neither recent nor still running.
_CESSATION_WORDS = frozenset(
    {
        "abandonne",
        "abandonnee",
        "abandonnes",
        "abandonnees",
        "interrompu",
        "interrompue",
        "interrompus",
        "interrompues",
        "supprime",
        "supprimee",
        "supprimes",
        "supprimees",
    }
)
_CESSATION_SEQUENCES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("a", "quitte"),
        ("ont", "quitte"),
        ("avons", "quitte"),
        ("a", "ferme"),
        ("ont", "ferme"),
        ("avons", "ferme"),
        ("ete", "ferme"),
        ("ete", "fermee"),
        ("ete", "fermes"),
        ("ete", "fermees"),
        ("ferme", "ses", "portes"),
        ("ete", "arrete"),
        ("ete", "arretee"),
        ("avons", "arrete"),
        ("a", "cesse"),
        ("ont", "cesse"),
        ("en", "sommeil"),
    }
)
# « sans », « faute de » … negate the next few words only: « sans compte Twitter ».
_LOCAL_NEGATIONS = frozenset({"sans", "faute", "absence", "manque", "hormis", "excepte"})
_LOCAL_SCOPE = 4
# « sans domicile », « sans emploi » describe people; « sans cesse » insists.
_NOT_LOCAL_NEGATION_AFTER = frozenset(
    {"domicile", "abri", "emploi", "papiers", "cesse", "oublier", "attendre", "doute"}
)

# --- intention ------------------------------------------------------------------------------------

# Anywhere in the clause: passive, conditional, future, nominal and adverbial intentions.
_INTENT_ANYWHERE = frozenset(
    {
        # passive participles
        "envisage",
        "envisagee",
        "envisages",
        "envisagees",
        "prevu",
        "prevue",
        "prevus",
        "prevues",
        "programmee",
        "programmees",
        # conditional
        "devrait",
        "devraient",
        "devrions",
        "pourrait",
        "pourraient",
        "pourrions",
        "aimerait",
        "aimeraient",
        "aimerions",
        "voudrait",
        "voudraient",
        "voudrions",
        "souhaiterait",
        "souhaiteraient",
        "souhaiterions",
        "envisagerait",
        "envisagerions",
        # future of the verbs that create or open something
        "ouvrira",
        "ouvriront",
        "ouvrirons",
        "lancera",
        "lanceront",
        "lancerons",
        "creera",
        "creeront",
        "creerons",
        "deploiera",
        "deploieront",
        "deploierons",
        "installera",
        "installeront",
        "installerons",
        "proposera",
        "proposeront",
        "proposerons",
        "mettra",
        "mettront",
        "mettrons",
        "amenagera",
        "amenageront",
        "amenagerons",
        "equipera",
        "equiperont",
        "equiperons",
        "accueillera",
        "accueilleront",
        "inaugurera",
        "demarrera",
        "demarreront",
        "debutera",
        "debuteront",
        "verra",
        "recrutera",
        "recruterons",
        "developperons",
        "developpera",
        "experimentera",
        "experimenterons",
        "rejoindra",
        "rejoindrons",
        "adherera",
        "publiera",
        "publieront",
        "publierons",
        # nouns and adverbs
        "prochainement",
        "bientot",
        "ulterieurement",
        "reflexion",
        "reflexions",
        "faisabilite",
        "projete",
        "projetee",
    }
)
_INTENT_SEQUENCES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("a", "l", "etude"),  # not « l’étude » alone: « inscriptions à la cantine et à l’étude »
        ("en", "projet"),
        ("etat", "de", "projet"),
        ("d", "ici"),
        ("a", "terme"),
        ("a", "venir"),
        ("an", "prochain"),
        ("annee", "prochaine"),
        ("rentree", "prochaine"),
        ("prochaine", "rentree"),
        # talked about is not done: « le conseil a débattu du télétravail »
        ("a", "debattu"),
        ("ont", "debattu"),
        ("avons", "debattu"),
        ("a", "evoque"),
        ("avons", "evoque"),
        # asked for is not done: « les enseignants ont demandé des tablettes »
        ("a", "demande"),
        ("ont", "demande"),
        ("avons", "demande"),
    }
)
# « sera créé », « seront ouverts »: future passive of creation.
_FUTURE_AUX = frozenset({"sera", "seront"})
_CREATION_PARTICIPLES = frozenset(
    {
        "cree",
        "creee",
        "crees",
        "creees",
        "ouvert",
        "ouverte",
        "ouverts",
        "ouvertes",
        "lance",
        "lancee",
        "lances",
        "lancees",
        "installe",
        "installee",
        "installes",
        "installees",
        "deploye",
        "deployee",
        "deployes",
        "deployees",
        "amenage",
        "amenagee",
        "inaugure",
        "inauguree",
        "mis",
        "mise",
        "propose",
        "proposee",
        "proposes",
        "proposees",
        "recrute",
        "recrutee",
        "equipe",
        "equipee",
        "equipes",
        "equipees",
        "raccorde",
        "raccordee",
        "raccordes",
        "raccordees",
        "experimente",
        "experimentee",
        "presente",
        "presentee",
        "generalise",
        "generalisee",
        "etendu",
        "etendue",
        "publie",
        "publiee",
        "publies",
        "publiees",
    }
)
# « nous allons ouvrir », « la commune va créer »: near future.
_NEAR_FUTURE = frozenset({"va", "vont", "allons"})
# From the verb to the end of the clause: an intention governs what follows it.
_INTENT_FORWARD = frozenset(
    {
        "envisageons",
        "envisagent",
        "envisageait",
        "envisager",
        "souhaitons",
        "souhaitent",
        "souhaite",
        "souhaitait",
        "souhaiter",
        "prevoyons",
        "prevoit",
        "prevoient",
        "prevoir",
        "projetons",
        "projette",
        "projettent",
        "reflechissons",
        "reflechit",
        "reflechissent",
        "reflechir",
        "etudions",
        "etudie",
        "esperons",
        "espere",
        "ambitionnons",
        "ambitionne",
        "voulons",
        "candidate",
        "candidater",
    }
)
# « a souhaité », « avons envisagé »: a past decision, not an intention (the clause says what followed).
_PAST_AUX = frozenset({"a", "avons", "ont", "avait", "avions", "avaient"})
# « comme prévu »: no intention; « comme le prévoit la loi », « les agents qui le souhaitent »: neither.
_NOT_INTENT_BEFORE = frozenset({"comme"})
_NOT_FORWARD_INTENT_BEFORE = frozenset({"comme", "le"})
# Future and conditional of any verb, by their ending (« interviendra », « permettraient »,
# « nous organiserons », « vous pourrez »), except the nouns that end alike.
_FUTURE_ENDINGS = ("ra", "ront", "rait", "raient", "erons", "irons", "rrons", "erez", "irez", "rrez")
_NOT_FUTURE = frozenset(
    {
        "camera",
        "opera",
        "riviera",
        "agora",
        "mantra",
        "sierra",
        "cobra",
        "extra",
        "ultra",
        "tiara",
        "zebra",
        "sahara",
        "cholera",
        "mascara",
        "tempera",
        "caldera",
        "front",
        "affront",
        "portrait",
        "attrait",
        "extrait",
        "retrait",
        "trait",
        "abstrait",
        "distrait",
        "soustrait",
        "environs",
        "potirons",
        "avirons",
        "vignerons",
        "bucherons",
        "forgerons",
        "biberons",
        "chaperons",
        "quarterons",
        "mousserons",
        "percherons",
        "laiterons",
        "rez",
    }
)
# « une étude sur l’illectronisme », « un débat en ligne sur le télétravail »: the few words after
# « sur » are what is talked about, not what is done (the debate itself is done: its words come first).
_TOPIC_NOUNS = frozenset(
    {
        "etude",
        "etudes",
        "conference",
        "conferences",
        "colloque",
        "colloques",
        "reflexion",
        "reflexions",
        "debat",
        "projet",
        "projets",
    }
)
_TOPIC_SCOPE = 5
# « le futur tiers-lieu »: the next few words only (« ont choisi les aménagements du futur parc » is done).
_FUTURE_ADJECTIVES = frozenset({"futur", "future", "futurs", "futures", "prochain", "prochaine"})
# « projet de tiers-lieu » is an intention, unless the clause says it came true.
_PROJECT = frozenset({"projet", "projets"})
_PROJECT_SCOPE = 5
_REALISED = frozenset(
    {"depuis", "inaugure", "inauguree", "abouti", "aboutit", "realise", "realisee", "concretise", "fonctionne"}
)


@dataclass(frozen=True, slots=True)
class ClauseCues:
    """The negation and intention cues of one clause (token indices of the passage)."""

    negated: bool = False
    intended: bool = False
    forward_from: int | None = None  # an intention verb: what follows it in the clause
    local_negations: tuple[int, ...] = ()  # « sans » …: the next few words
    projects: tuple[int, ...] = ()  # « projet de », « futur » …: the next few words
    topics: tuple[int, ...] = ()  # « étude sur » …: the next few words

    def reason(self, start: int) -> Reason | None:
        """Why an occurrence starting at token `start` of this clause is not evidence, if it is not."""
        if self.negated or any(0 < start - j <= _LOCAL_SCOPE for j in self.local_negations):
            return Reason.NEGATION
        if self.intended or (self.forward_from is not None and self.forward_from < start):
            return Reason.INTENTION
        if any(0 < start - j <= _PROJECT_SCOPE for j in self.projects):
            return Reason.INTENTION
        if any(0 < start - j <= _TOPIC_SCOPE for j in self.topics):
            return Reason.TOPIC
        return None


NO_CUES = ClauseCues()


def _is_future(word: str) -> bool:
    return len(word) >= 5 and word.endswith(_FUTURE_ENDINGS) and word not in _NOT_FUTURE and word.isalpha()


# People a relative clause may describe: « les habitants qui n’ont pas d’ordinateur » says who
# is helped, it does not deny the help.
PEOPLE = frozenset(
    {
        "habitants",
        "personnes",
        "usagers",
        "publics",
        "public",
        "familles",
        "ceux",
        "celles",
        "seniors",
        "aines",
        "jeunes",
        "administres",
        "beneficiaires",
        "gens",
        "adultes",
        "demandeurs",
        "retraites",
        "citoyens",
    }
)


# Every word that may take part in a cue, so that a clause is scanned on those words only.
_CUE_WORDS = frozenset(
    _NEGATIVE_ALONE
    | _PARTICLES_WITH_NE
    | _CESSATION_WORDS
    | {sequence[-1] for sequence in _CESSATION_SEQUENCES | _INTENT_SEQUENCES}
    | _LOCAL_NEGATIONS
    | _INTENT_ANYWHERE
    | _FUTURE_AUX
    | _NEAR_FUTURE
    | _INTENT_FORWARD
    | _PROJECT
    | _TOPIC_NOUNS
    | _FUTURE_ADJECTIVES
    | _REALISED
    | {"ne", "n"}
)
_IS_CUE: dict[str, bool] = {}  # folded word → may take part in a cue (cache)
# Words that open a negation or an intention on their own (not « depuis », which only
# cancels a « projet de »): a clause without any of them needs no reading.
_OPENING_WORDS = _CUE_WORDS - _REALISED
_OPENS: dict[str, bool] = {}  # word as written → opens a cue (cache)


def has_cue(words: Sequence[str]) -> bool:
    """Whether some of these words (as written) may open a negation or an intention."""
    opens = _OPENS
    try:
        return any(map(opens.__getitem__, words))
    except KeyError:
        if len(opens) > 200_000:
            opens.clear()
        for word in set(words).difference(opens):
            folded = fold(word)
            opens[word] = folded in _OPENING_WORDS or _is_future(folded)
        return any(map(opens.__getitem__, words))


def cue_marks(folded: Sequence[str]) -> list[bool]:
    """For each word of a passage, whether it may take part in a cue (most words do not)."""
    marks = _IS_CUE
    for word in set(folded).difference(marks):
        if len(marks) > 200_000:
            marks.clear()
        marks[word] = word in _CUE_WORDS or _is_future(word)
    return list(map(marks.__getitem__, folded))


def read_clause(
    folded: Sequence[str],
    marks: Sequence[bool],
    is_ne: Callable[[int], bool],
    start: int,
    end: int,
    describes_people: bool = False,
) -> ClauseCues:
    """The cues of the clause made of tokens [start, end).

    `folded` are the passage's words without case or accents, `marks` their
    `cue_marks`; `is_ne(i)` says whether word i is the negative « ne » / « n’ »
    (not « né », not « n° »). A clause that `describes_people` (« les habitants
    qui n’arrivent pas à … ») negates nothing.
    """
    cue_words = list(compress(range(start, end), marks[start:end]))
    if not cue_words:
        return NO_CUES
    has_ne = any(folded[i] in ("ne", "n") and is_ne(i) for i in cue_words)
    negated = intended = False
    forward_from: int | None = None
    local: list[int] = []
    projects: list[int] = []
    topics: list[int] = []
    realised = False
    for i in cue_words:
        word = folded[i]
        before = folded[i - 1] if i > start else ""
        after = folded[i + 1] if i + 1 < end else ""
        pair = (before, word)
        triple = (folded[i - 2] if i - 1 > start else "", before, word)
        realised = realised or word in _REALISED
        if word in _NEGATIVE_ALONE:
            negated = negated or not (word.startswith("aucun") and before == "sans" and after == "doute")
        elif word in _PARTICLES_WITH_NE:
            if before in _NOT_NEGATING_BEFORE or after in _NOT_NEGATING_AFTER:
                continue
            if has_ne or (word == "pas" and after in _PAS_FOLLOWERS):
                negated = True
        elif word in _CESSATION_WORDS or pair in _CESSATION_SEQUENCES or triple in _CESSATION_SEQUENCES:
            negated = True
        elif word in _LOCAL_NEGATIONS:
            if after not in _NOT_LOCAL_NEGATION_AFTER:
                local.append(i)
        elif word in _INTENT_ANYWHERE or pair in _INTENT_SEQUENCES or triple in _INTENT_SEQUENCES:
            # « nous avons demandé aux habitants » asks people something: a consultation, done.
            asked_people = word == "demande" and after in ("a", "au", "aux")
            intended = intended or (before not in _NOT_INTENT_BEFORE and not asked_people)
        elif word in _FUTURE_AUX:
            intended = intended or any(w in _CREATION_PARTICIPLES for w in folded[i + 1 : min(i + 4, end)])
        elif word in _NEAR_FUTURE:
            intended = intended or after.endswith(("er", "ir", "re"))
        elif word in _INTENT_FORWARD:
            if before in _NOT_FORWARD_INTENT_BEFORE or (before in _PAST_AUX and word == "souhaite"):
                continue
            forward_from = i if forward_from is None else forward_from
        elif word in _PROJECT and after in ("de", "d"):
            projects.append(i + 1)
        elif word in _FUTURE_ADJECTIVES:
            projects.append(i)
        elif word in _TOPIC_NOUNS:
            # « une étude sur », « un débat en ligne sur »: what follows « sur » is the topic.
            about = next((j for j in range(i + 1, min(i + 4, end)) if folded[j] == "sur"), None)
            if about is not None:
                topics.append(about)
        elif _is_future(word):
            intended = intended or before not in _NOT_INTENT_BEFORE
    if realised:
        projects = []
    if describes_people:
        negated, local = False, []
    return ClauseCues(negated, intended, forward_from, tuple(local), tuple(projects), tuple(topics))
