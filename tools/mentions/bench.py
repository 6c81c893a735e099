"""Micro-benchmark of mention detection: one dossier of 100 actions under the 2018 grille (its mention
rules, and the terms of its services, read for the suggestions).

    python -m tools.mentions.bench [--runs 2000] [--grille deploy/grilles/grille-2018.json]    (from the repository root)

Prints the median and p95 of `detect` in milliseconds, wall-clock and CPU time
of the process (the machine is shared: CPU time is the code's own cost), for:
- the same dossier again and again (the word caches of the rules are warm), and the
  same without the services' terms (mentions only: what the suggestions cost);
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

import psutil
from palmares_contracts import Action, Category, GrilleBody
from palmares_mentions import french
from palmares_mentions.domain import detect
from palmares_mentions.matcher import clear_caches

from tools.mentions.repository import GRILLES_DIR

GRILLE = GRILLES_DIR / "grille-2018.json"

# Actions as town halls write them: most mention no mention-term at all, some do,
# some negate or announce; {place}, {n}, {year} vary from one dossier to the next.
_ACTIONS = (
    (
        "Démarches en ligne",
        "Depuis {year}, les habitants de {place} font en ligne {n} démarches : actes d’état civil, urbanisme, inscriptions scolaires et réservation des salles. Chaque demande est suivie dans un compte usager et les agents répondent sous 48 heures.",
    ),
    (
        "Paiement en ligne",
        "Les factures de cantine, de garderie et d’eau sont payables par carte bancaire sur le portail de la commune ; {n} % des familles l’utilisent déjà, ce qui allège le travail de la régie.",
    ),
    (
        "Site internet",
        "Le site de la commune, refondu en {year} avec une agence locale, présente l’agenda, les menus de la cantine, les comptes rendus du conseil municipal et les coordonnées des associations.",
    ),
    (
        "Page Facebook de la mairie",
        "La page Facebook relaie les alertes météo, les travaux et les fêtes de {place} ; elle compte {n} abonnés et un agent de l’accueil y répond aux questions des habitants.",
    ),
    (
        "Réseau de chaleur",
        "Les consommations des {n} bâtiments raccordés au réseau de chaleur bois sont suivies en ligne par les services techniques, qui ont réduit la facture énergétique de la commune.",
    ),
    (
        "Portail open data",
        "La ville publie {n} jeux de données sous Licence Ouverte : budget, subventions aux associations, équipements sportifs et fréquentation des piscines, mis à jour chaque trimestre.",
    ),
    (
        "Espace public numérique",
        "L’EPN de la médiathèque de {place} accueille chaque semaine une quarantaine d’habitants pour des ateliers d’initiation, un accès libre aux ordinateurs et une aide aux démarches en ligne.",
    ),
    (
        "Télétravail des agents",
        "Depuis {year}, {n} agents volontaires télétravaillent un jour par semaine avec un ordinateur portable et un accès sécurisé ; une charte fixe les règles et le droit à la déconnexion.",
    ),
    (
        "Tiers-lieu",
        "Nous envisageons d’ouvrir un tiers-lieu avec un espace de coworking dans l’ancienne gare de {place}, mais le financement n’est pas encore bouclé avec la région.",
    ),
    (
        "Tableaux numériques",
        "Les {n} classes de l’école élémentaire sont équipées de tableaux numériques interactifs et d’une classe mobile de tablettes, utilisée par les enseignants du cycle 3.",
    ),
    (
        "Jumelage",
        "Le comité de jumelage anime avec notre ville jumelle de Bad Kissingen, en Allemagne, un blog bilingue et des visioconférences entre les associations des deux communes.",
    ),
    (
        "Accessibilité du site",
        "Le site respecte le RGAA depuis {year} ; les vidéos sont sous-titrées et les documents essentiels, comme le guide des démarches, existent en FALC.",
    ),
    (
        "Budget participatif",
        "Les habitants de {place} ont déposé {n} idées sur la plateforme en ligne et voté pour les projets de leur quartier ; une enveloppe de 50 000 euros leur est réservée.",
    ),
    (
        "Wifi public",
        "Un wifi gratuit et sécurisé est proposé sur la place de la mairie, à la médiathèque et dans la salle polyvalente, ouverte le samedi aux associations.",
    ),
    (
        "Alertes SMS",
        "En cas d’inondation ou de canicule, {n} foyers inscrits reçoivent une alerte par SMS ou par courriel ; les personnes isolées sont appelées par les agents du CCAS.",
    ),
    (
        "Cartographie en ligne",
        "Un SIG grand public présente le cadastre, le PLU, les réseaux d’eau et d’assainissement et les travaux en cours ; il est mutualisé avec la communauté de communes.",
    ),
    (
        "Catalogue de la bibliothèque",
        "Les lecteurs du réseau des bibliothèques réservent en ligne parmi {n} documents et retirent leurs livres dans la bibliothèque de leur choix, y compris le samedi.",
    ),
    (
        "Médiation familiale",
        "Les permanences de médiation familiale se réservent en ligne au centre social de {place} ; une juriste y reçoit les familles deux fois par mois.",
    ),
    (
        "Formation des agents",
        "{n} agents ont suivi une formation à distance sur le nouveau logiciel de gestion financière, complétée par une demi-journée en présentiel avec l’éditeur.",
    ),
    (
        "Covoiturage",
        "Un tiers des actifs travaillent hors de {place} ; une plateforme de covoiturage les met en relation et trois aires ont été aménagées près des entrées de ville.",
    ),
    (
        "Conseil municipal en direct",
        "Les séances du conseil municipal sont retransmises en direct sur le site depuis {year}, puis disponibles en replay avec un sommaire des délibérations.",
    ),
    (
        "Inscriptions scolaires",
        "Les familles inscrivent leurs enfants à l’école, à la cantine et au centre de loisirs depuis le portail famille, et règlent leurs factures par prélèvement.",
    ),
    (
        "Cybersécurité",
        "Sauvegardes externalisées, antivirus centralisé et sensibilisation des {n} agents au hameçonnage ont été mis en place depuis {year} avec le centre de gestion.",
    ),
    (
        "Collecte des déchets",
        "Le calendrier de collecte, la carte des points d’apport volontaire et les demandes de bacs se font en ligne pour les {n} foyers du territoire.",
    ),
)
_PLACES = (
    "Saint-Aubin",
    "Montreuil-sur-Loir",
    "Villeneuve",
    "La Chapelle",
    "Beaumont",
    "Fontaine",
    "Lavaur",
    "Brézins",
)


def dossier(seed: int, size: int = 100) -> list[Action]:
    """A dossier of `size` actions; the seed varies names and figures."""
    pick = random.Random(seed)
    actions = []
    for i in range(size):
        title, text = _ACTIONS[(i + seed) % len(_ACTIONS)]
        description = text.format(
            place=f"{pick.choice(_PLACES)}-{pick.randint(1, 999)}",
            n=pick.randint(2, 5000),
            year=pick.randint(2010, 2017),
        )
        actions.append(Action(title=title, description=description, started_on=date(2016, 1, 1)))
    return actions


def _clear_caches() -> None:
    clear_caches()
    french.fold.cache_clear()
    french.stem.cache_clear()


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU time of the process, in milliseconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _summary(samples: Sequence[tuple[float, float]]) -> str:
    def stats(values: list[float]) -> str:
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        return f"median {statistics.median(values):5.2f}  p95 {p95:5.2f}"

    return f"wall {stats([w for w, _ in samples])}   cpu {stats([c for _, c in samples])}   ms ({len(samples)} runs)"


def _load() -> str:
    try:
        return f"{psutil.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def run(grille: GrilleBody, runs: int) -> list[str]:
    """The benchmark's lines of output."""
    narrative = "Notre commune mise sur la proximité : " + " ".join(a.description for a in dossier(0, 5))
    _clear_caches()
    compile_ms, _ = _timed(lambda: detect([], "", grille, Category.VILLE))
    first = dossier(1)
    cold_ms, _ = _timed(lambda: detect(first, narrative, grille, Category.VILLE))
    same = [_timed(lambda: detect(first, narrative, grille, Category.VILLE)) for _ in range(runs)]
    # The same dossier without the services' terms: what the suggestions cost.
    plain = grille.model_copy(update={"services": tuple(s.model_copy(update={"terms": ()}) for s in grille.services)})
    detect(first, narrative, plain, Category.VILLE)
    mentions_only = [_timed(lambda: detect(first, narrative, plain, Category.VILLE)) for _ in range(runs)]
    campaign = [dossier(seed) for seed in range(2, 202)]
    different = [_timed(lambda d=d: detect(d, narrative, grille, Category.VILLE)) for d in campaign]  # type: ignore[misc]
    words = sum(len(french.WORD.findall(f"{a.title} {a.description}")) for a in first)
    return [
        f"dossier: {len(first)} actions, {words} words, + a narrative; {len(grille.mentions)} mention rules, {sum(1 for s in grille.services if s.terms)} services with terms; load {_load()}",
        f"same dossier (warm)      {_summary(same)}",
        f"  without suggestions    {_summary(mentions_only)}",
        f"200 different dossiers   {_summary(different)}",
        f"first dossier (cold)     {cold_ms:6.2f} ms",
        f"rule compilation (once)  {compile_ms:6.2f} ms (per grille version; the process's first also loads simplemma's data)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time mention detection on a dossier of 100 actions.")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--grille", type=Path, default=GRILLE)
    args = parser.parse_args(argv)
    grille = GrilleBody.model_validate_json(args.grille.read_text(encoding="utf-8"))
    print("\n".join(run(grille, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
