"""How the label writes French to collectivités (pure): names, numbers, dates, typography.

Every text a collectivité or the public reads (the emails, the pages, the
palmarès and its exports) writes French by the same rules, so they live here
once:

- names of collectivités in running text, with elision and contraction
  (« du Mans », « des Abymes », « d’Agen », « de la Riviéra du Levant »; never
  « de Le Havre »), and the full official name of an EPCI (« la communauté de
  communes de Parthenay-Gâtine ») from its type in the reference data;
- numbers (« 1,2 », « 36 926 ») and plurals by French rules (singular below 2:
  « 1,2 point », « 0 point », « 2 points »), never « point(s) »; small counts
  in letters in prose (« cinq arobases », « une arobase »);
- the categories' members in running text (« ne s’applique pas aux villages »);
- dates and times in Europe/Paris (« 1er février 2017 », « 14 h 03 »);
- typography: the apostrophe ’, a non-breaking space before « : » and inside
  « », a narrow one before « ; ! ? ».

Written by hand rather than with Babel: the letter's forms (« 1er », « 14 h 03 »)
are not CLDR patterns, and the number rules fit in a few lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from palmares_contracts import Category

NBSP = "\u00a0"
"""Non-breaking space: before « : », inside « », between a number and its unit."""
NNBSP = "\u202f"
"""Narrow non-breaking space: before « ; ! ? », between groups of digits."""

PARIS = ZoneInfo("Europe/Paris")

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


# --- typography ----------------------------------------------------------------------------


def typographic(text: str) -> str:
    """`text` with typographic apostrophes (’) instead of straight ones (')."""
    return text.replace("'", "’")


_SPACE_BEFORE = re.compile(r" ([:;!?»])")
_SPACE_AFTER = re.compile(r"« ")


def typeset(text: str) -> str:
    """French typography on a sentence written with a keyboard's characters.

    Apostrophes become ’; the space before « : » and « » » becomes non-breaking, the
    one before « ; ! ? » narrow and non-breaking, the one after « « » non-breaking.
    Only existing spaces change (« 14:03 » and addresses keep theirs): for prose.
    """
    text = typographic(text)
    text = _SPACE_BEFORE.sub(lambda m: (NBSP if m.group(1) in ":»" else NNBSP) + m.group(1), text)
    return _SPACE_AFTER.sub("«" + NBSP, text)


def quoted(text: str) -> str:
    """« text », with non-breaking spaces inside the guillemets."""
    return f"«{NBSP}{text}{NBSP}»"


def sentence(text: str) -> str:
    """`text` with its first letter in capitals (« la communauté… » → « La communauté… »)."""
    return text[:1].upper() + text[1:]


# --- names of the label's categories ----------------------------------------------------------

_CATEGORY_PLURALS = {Category.VILLAGE: "villages", Category.VILLE: "villes", Category.TERRITOIRE: "territoires"}


def category_plural(category: Category) -> str:
    """The members of a category as running text names them: « villages », « villes », « territoires »."""
    return _CATEGORY_PLURALS[category]


# --- numbers and plurals --------------------------------------------------------------------


def number(value: float, decimals: int = 2) -> str:
    """A number as French writes it: decimal comma, digits grouped by three (« 36 926 », « 1,2 »).

    At most `decimals` decimals, trailing zeros dropped (« 12 », not « 12,0 »).
    """
    negative = value < 0
    text = f"{abs(value):.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{abs(value):.0f}"
    whole, _, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    whole = NNBSP.join([whole, *groups])
    return ("-" if negative else "") + (f"{whole},{fraction}" if fraction else whole)


def plural(value: float) -> bool:
    """French agreement: the plural begins at 2 (« 1,5 point », « 0 point », « 2 points »)."""
    return abs(value) >= 2


def count(value: float, singular: str, plural_form: str | None = None, decimals: int = 2) -> str:
    """A number and its noun, agreed (« 1,2 point », « 3 arobases »), joined by a non-breaking space.

    The agreement follows the number as written: 1.999 is written « 2 », so « 2 points ».
    """
    noun = (plural_form or singular + "s") if plural(round(value, decimals)) else singular
    return f"{number(value, decimals)}{NBSP}{noun}"


_WORDS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix")


def in_words(value: int, feminine: bool = False) -> str:
    """A whole number from 0 to 10 in letters, as French prose writes small numbers; digits beyond."""
    if not 0 <= value < len(_WORDS):
        return number(value)
    return "une" if value == 1 and feminine else _WORDS[value]


def count_in_words(value: int, singular: str, plural_form: str | None = None, feminine: bool = False) -> str:
    """A small count and its noun, in letters: « cinq arobases », « une arobase »."""
    noun = (plural_form or singular + "s") if plural(value) else singular
    return f"{in_words(value, feminine)} {noun}"


def arobases(value: int) -> str:
    """« une arobase », « cinq arobases » (arobase is feminine)."""
    return count_in_words(value, "arobase", feminine=True)


# --- dates and times ---------------------------------------------------------------------------


def long_date(day: date | str) -> str:
    """« 1er février 2017 »: a date as a French letter writes it (a datetime counts in Europe/Paris)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    elif isinstance(day, datetime):
        day = paris(day).date()
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def time_of_day(instant: datetime) -> str:
    """« 14 h 03 »: the time of an instant in Europe/Paris."""
    local = paris(instant)
    return f"{local.hour}{NBSP}h{NBSP}{local.minute:02d}"


def date_at_time(instant: datetime) -> str:
    """« 1er février 2017 à 14 h 03 » in Europe/Paris."""
    return f"{long_date(instant)} à {time_of_day(instant)}"


def paris(instant: datetime) -> datetime:
    """The instant in Europe/Paris (the services keep aware datetimes; a naive one is refused)."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no place in a letter: give it a time zone")
    return instant.astimezone(PARIS)


# --- names of collectivités ----------------------------------------------------------------------

_VOWELS = "aeiouyàâäéèêëîïôöœùûüÿ"
# An h aspiré forbids elision (« de Haguenau », « de Haute-Goulaine »). Most commune names
# that begin with an h take « d’ » (Hyères, Hérouville, Hennebont), so h is mute unless the
# name begins with « haut » (Hautmont, Haute-Goulaine) or its first word is listed here.
_H_ASPIRE = re.compile(r"^(?:haut|(?:hague|haguenau|ham|houilles)\b)", re.I)
_ARTICLE = re.compile(r"^(?:(Les|Le|La)\s+|(L[’']))(?=\S)", re.I)


def _elides(word: str) -> bool:
    first = word[:1].lower()
    if first == "h":
        return not _H_ASPIRE.match(word)
    return first != "" and first in _VOWELS


@dataclass(frozen=True, slots=True)
class Designation:
    """How running French text names a collectivité: an article (maybe none) and the rest.

    The article of a place name keeps its capital and contracts with « de » and
    « à » when it is Le or Les (« du Mans », « aux Abymes ») but not when it is La
    or L’ (« de La Rochelle », « de L’Haÿ-les-Roses »): the rule of French
    typography for toponyms. Any other designation (an EPCI: « la communauté
    de communes… ») has a common article, in lower case.
    """

    article: str  # "", "le", "la", "les", "l’"; capitalised for a place name
    body: str

    def __str__(self) -> str:
        return self.bare

    @property
    def bare(self) -> str:
        """« Le Mans », « la communauté de communes de Parthenay-Gâtine », « Agen »."""
        if not self.article:
            return self.body
        return self.article + ("" if self.article.endswith("’") else " ") + self.body

    @property
    def de(self) -> str:
        """With « de »: « du Mans », « des Abymes », « d’Agen », « de la Riviéra du Levant »."""
        return self._with("de", "du", "des")

    @property
    def a(self) -> str:
        """With « à »: « au Mans », « aux Abymes », « à Agen », « à la communauté… »."""
        return self._with("à", "au", "aux")

    @property
    def entry(self) -> str:
        """As an entry of a list or a table, without a common article:
        « Communauté de communes de Parthenay-Gâtine », « Le Mans »."""
        if self.article and self.article == self.article.lower():
            return sentence(self.body)
        return self.bare

    @property
    def start(self) -> str:
        """At the start of a sentence: « La communauté de communes de Parthenay-Gâtine »."""
        return sentence(self.bare)

    def _with(self, preposition: str, masculine: str, plural_form: str) -> str:
        article = self.article.lower()
        if article == "le":
            return f"{masculine} {self.body}"
        if article == "les":
            return f"{plural_form} {self.body}"
        if article:
            return f"{preposition} {self.bare}"
        if preposition == "de" and _elides(self.body):
            return f"d’{self.body}"
        return f"{preposition} {self.body}"


def place(name: str) -> Designation:
    """A commune's (or any place's) name as a designation: « Le Mans » → article Le, body Mans."""
    name = typographic(name.strip())
    match = _ARTICLE.match(name)
    if match is None:
        return Designation("", name)
    article = match.group(1) or "L’"
    return Designation(sentence(article.lower()), name[match.end() :])


def common(name: str) -> Designation:
    """A name that is not a place name (« La Riviéra du Levant » of an EPCI): its article in lower case."""
    designation = place(name)
    return Designation(designation.article.lower(), designation.body)


# The EPCI types of the reference data and the noun of each; the reference names
# abbreviate the noun (« CC de Parthenay-Gâtine »).
EpciType = Literal["CC", "CA", "CU", "METRO", "MET69"]
_EPCI_NOUNS = {
    "CC": "communauté de communes",
    "CA": "communauté d’agglomération",
    "CU": "communauté urbaine",
}
# A name that already names its kind of collectivité is used as it stands: « Caux Seine
# Agglo », « Le Mans Métropole » are the names those communautés chose.
_KIND_WORD = re.compile(r"\b(?:agglo|agglomération|communauté|métropole|eurométropole)\b", re.I)
_LEADS_WITH_KIND = re.compile(r"^(?:agglomération|communauté|métropole|eurométropole)\b", re.I)
_PREPOSITION = re.compile(r"^(?:de|du|des)\s|^d’", re.I)


def epci(name: str, epci_type: str | None = None) -> Designation:
    """The full official name of an EPCI from its reference name and type.

    « CC de Parthenay-Gâtine » (CC) → « la communauté de communes de Parthenay-Gâtine »;
    « CA La Riviéra du Levant » → « la communauté d’agglomération de la Riviéra du Levant »;
    « CA Caux Seine Agglo » → « la communauté d’agglomération Caux Seine Agglo »;
    « CA Agglomération d’Agen » → « l’Agglomération d’Agen »;
    « Métropole de Lyon » (MET69) → « la Métropole de Lyon »; « Dijon Métropole » as it stands.
    Without a type, the name's abbreviation (CC, CA, CU) tells it.
    """
    # The DGCL's list of 2016 writes some names as a quoted brand with a lower-case
    # initial (« CA "terre de Provence" »): the quotes go, the initial is raised.
    name = typographic(" ".join(name.replace('"', " ").split()))
    prefix, _, rest = name.partition(" ")
    if rest and rest[0].islower() and not _ARTICLE.match(rest) and not _PREPOSITION.match(rest):
        rest = sentence(rest)
        name = f"{prefix} {rest}"
    if epci_type is None and prefix in _EPCI_NOUNS:
        epci_type = prefix
    noun = _EPCI_NOUNS.get(epci_type or "")
    if noun is not None and prefix == epci_type and rest:
        name = rest
    if _LEADS_WITH_KIND.match(name):  # « Métropole de Lyon », « Agglomération d’Agen »
        return Designation("l’" if _elides(name) else "la", name)
    if noun is None:  # a métropole, or an unknown type: its name as it stands
        return common(name)
    if _PREPOSITION.match(name):
        return Designation("la", f"{noun} {name}")
    if _KIND_WORD.search(name):
        return Designation("la", f"{noun} {name}")  # apposition: the name chosen by the communauté
    if _ARTICLE.match(name):
        return Designation("la", f"{noun} {common(name).de}")
    return Designation("la", f"{noun} {name}")  # apposition: « communauté de communes Faucigny - Glières »


Kind = Literal["commune", "epci"]


def collectivite(name: str, kind: str, epci_type: str | None = None) -> Designation:
    """The name of a collectivité in running text: a commune's place name, an EPCI's full name."""
    return epci(name, epci_type or None) if kind == "epci" else place(name)


_CATEGORY_NOUNS = {"village": "village", "ville": "ville"}


def described(name: str, kind: str, category: str, epci_type: str | None = None) -> Designation:
    """The collectivité introduced by what it is: « la ville du Mans », « le village de Fréhel »;
    an EPCI by its full name."""
    designation = collectivite(name, kind, epci_type)
    noun = _CATEGORY_NOUNS.get(category)
    if kind == "epci" or noun is None:
        return designation
    return Designation("la" if noun == "ville" else "le", f"{noun} {designation.de}")


def addressee(kind: str) -> str:
    """Whom a letter addresses: « Madame, Monsieur le Maire » (commune), « … le Président » (EPCI)."""
    return "Madame, Monsieur le Président" if kind == "epci" else "Madame, Monsieur le Maire"


def salutation(kind: str) -> str:
    """The opening line of a letter: « Madame, Monsieur le Maire, »."""
    return addressee(kind) + ","
