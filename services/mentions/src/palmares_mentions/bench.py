"""Micro-benchmark of mention detection: one dossier of 100 actions under the 2018 rules.

    python -m palmares_mentions.bench [--runs 2000] [--grille deploy/grilles/grille-2018.json]

Prints the median and p95 of `detect` in milliseconds for:
- the same dossier again and again (the word caches of the rules are warm);
- 200 different dossiers (new names and figures in each, as in a real campaign);
- the first dossier after the caches are emptied (cold), and the compilation of
  the rules (done once per grille version).
Not a test: figures depend on the machine. Target: median under 5 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from palmares_contracts import Action, GrilleBody, MentionRule

from palmares_mentions import french
from palmares_mentions.domain import detect
from palmares_mentions.matcher import compile_rules

GRILLE = Path(__file__).resolve().parents[4] / "deploy" / "grilles" / "grille-2018.json"

# Actions as town halls write them: most mention no mention-term at all, some do,
# some negate or announce; {place}, {n}, {year} vary from one dossier to the next.
_ACTIONS = (
    ("Démarches en ligne", "Depuis {year}, les habitants de {place} font en ligne {n} démarches : état civil, urbanisme, inscriptions scolaires, réservation des salles."),
    ("Paiement en ligne", "Les factures de cantine, de garderie et d’eau sont payables par carte bancaire sur le portail ; {n} % des familles l’utilisent."),
    ("Site internet", "Le site de la commune, refondu en {year}, présente l’agenda, les menus de la cantine et les comptes rendus du conseil municipal."),
    ("Page Facebook de la mairie", "La page Facebook relaie les alertes météo, les travaux et les fêtes de {place} ; {n} abonnés."),
    ("Réseau de chaleur", "Les consommations des bâtiments raccordés au réseau de chaleur sont suivies en ligne par les services techniques."),
    ("Portail open data", "La ville publie {n} jeux de données sous Licence Ouverte : budget, subventions, équipements sportifs."),
    ("Espace public numérique", "L’EPN de la médiathèque accueille les habitants pour des ateliers d’initiation et une aide aux démarches en ligne."),
    ("Télétravail des agents", "Depuis {year}, {n} agents télétravaillent un jour par semaine avec un ordinateur portable."),
    ("Tiers-lieu", "Nous envisageons d’ouvrir un tiers-lieu avec un espace de coworking dans l’ancienne gare de {place}."),
    ("Tableaux numériques", "Les {n} classes de l’école élémentaire sont équipées de tableaux numériques interactifs."),
    ("Jumelage", "Le comité de jumelage anime avec notre ville jumelle un blog bilingue et des visioconférences entre écoles."),
    ("Accessibilité du site", "Le site respecte le RGAA ; les vidéos sont sous-titrées et les documents essentiels existent en FALC."),
    ("Budget participatif", "Les habitants de {place} ont déposé {n} idées et voté en ligne pour les projets de leur quartier."),
    ("Wifi public", "Un wifi gratuit est proposé sur la place de la mairie et dans la salle polyvalente, ouverte le samedi."),
    ("Alertes SMS", "En cas d’inondation, {n} foyers inscrits reçoivent une alerte par SMS ou par courriel."),
    ("Cartographie en ligne", "Un SIG grand public présente le cadastre, le PLU et les réseaux d’eau et d’assainissement."),
    ("Catalogue de la bibliothèque", "Les lecteurs du réseau des bibliothèques réservent en ligne parmi {n} documents."),
    ("Médiation familiale", "Les permanences de médiation familiale se réservent en ligne au centre social de {place}."),
    ("Formation des agents", "{n} agents ont suivi une formation à distance sur le nouveau logiciel de gestion."),
    ("Covoiturage", "Un tiers des actifs travaillent hors de {place} ; une plateforme de covoiturage les met en relation."),
    ("Conseil municipal en direct", "Les séances du conseil municipal sont retransmises en direct sur le site depuis {year}."),
    ("Inscriptions scolaires", "Les familles inscrivent leurs enfants à l’école, à la cantine et au centre de loisirs depuis le portail famille."),
    ("Cybersécurité", "Sauvegardes externalisées, antivirus et sensibilisation des agents au hameçonnage depuis {year}."),
    ("Collecte des déchets", "Le calendrier de collecte et les demandes de bacs se font en ligne pour les {n} foyers."),
)
_PLACES = ("Saint-Aubin", "Montreuil-sur-Loir", "Villeneuve", "La Chapelle", "Beaumont", "Fontaine", "Lavaur", "Brézins")


def dossier(seed: int, size: int = 100) -> list[Action]:
    """A dossier of `size` actions; the seed varies names and figures."""
    pick = random.Random(seed)
    actions = []
    for i in range(size):
        title, text = _ACTIONS[(i + seed) % len(_ACTIONS)]
        description = text.format(
            place=f"{pick.choice(_PLACES)}-{pick.randint(1, 999)}", n=pick.randint(2, 5000), year=pick.randint(2010, 2017)
        )
        actions.append(Action(title=title, description=description, started_on=date(2016, 1, 1)))
    return actions


def _clear_caches() -> None:
    compile_rules.cache_clear()
    french.fold.cache_clear()
    french.stem.cache_clear()


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _summary(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms   ({len(ordered)} runs)"


def run(rules: tuple[MentionRule, ...], runs: int) -> list[str]:
    """The benchmark's lines of output."""
    narrative = "Notre commune mise sur la proximité : " + " ".join(a.description for a in dossier(0, 5))
    _clear_caches()
    compile_ms = _timed(lambda: compile_rules(rules))
    first = dossier(1)
    cold_ms = _timed(lambda: detect(first, narrative, rules))
    same = [_timed(lambda: detect(first, narrative, rules)) for _ in range(runs)]
    campaign = [dossier(seed) for seed in range(2, 202)]
    different = [_timed(lambda d=d: detect(d, narrative, rules)) for d in campaign]  # type: ignore[misc]
    words = sum(len(french.WORD.findall(f"{a.title} {a.description}")) for a in first)
    return [
        f"dossier: {len(first)} actions, {words} words, + a narrative; {len(rules)} mention rules (2018)",
        f"same dossier (warm)        {_summary(same)}",
        f"200 different dossiers     {_summary(different)}",
        f"first dossier (cold)       {cold_ms:6.2f} ms",
        f"rule compilation (once)    {compile_ms:6.2f} ms",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time mention detection on a dossier of 100 actions.")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--grille", type=Path, default=GRILLE)
    args = parser.parse_args(argv)
    grille = GrilleBody.model_validate_json(args.grille.read_text(encoding="utf-8"))
    print("\n".join(run(grille.mentions, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
