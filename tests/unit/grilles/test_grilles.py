"""The grilles of editions 2017 and 2018 (deploy/grilles/): valid, complete, and honestly versioned.

Pure data tests: no server, only `palmares_contracts` (pydantic), the changelog
diff `palmares_cli.grille_changelog` and its command line `deploy/grilles/changelog.py`.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from palmares_cli import grille_changelog as changelog
from palmares_contracts import Category, CategoryThresholds, ChangeKind, GrilleBody, Threshold

ROOT = Path(__file__).resolve().parents[3]
GRILLES = ROOT / "deploy" / "grilles"
FILES = {
    "2017": GRILLES / "grille-2017.json",
    "2018": GRILLES / "grille-2018.json",
    "2018-v2": GRILLES / "grille-2018-v2.json",
}
EXPECTED_SERVICES = {"2017": 138, "2018": 139, "2018-v2": 140}
# (previous, next): each grille's changelog is its diff against the grille it replaces.
SUCCESSION = [("2017", "2018"), ("2018", "2018-v2")]

NAMED_ENJEUX = {  # the 15 enjeux named in the label's rules (docs/glossary.md)
    "Emploi",
    "Culture et patrimoine",
    "Services publics",
    "Identité",
    "Éducation",
    "Démocratie locale",
    "Coopération",
    "Vie quotidienne",
    "Développement économique",
    "Solidarités",
    "Vie associative",
    "Cohésion sociale",
    "Attractivité",
    "Médiation",
    "Innovation",
}
CATEGORY_LABELS = {
    "Démocratie et services publics",
    "Vivre ensemble",
    "Partage des connaissances",
    "Création de richesses",
}
MENTIONS_2017 = {
    "numerique_educatif",
    "reseaux_sociaux",
    "gouvernement_ouvert",
    "cooperation_internationale",
    "solidarite_numerique",
    "teletravail",
    "accessibilite",
}
MENTIONS_2018 = MENTIONS_2017 | {"democratie_locale", "mediation_numerique"}
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def grilles() -> dict[str, GrilleBody]:
    return {name: GrilleBody.model_validate_json(path.read_text(encoding="utf-8")) for name, path in FILES.items()}


def _arobases(grille: GrilleBody, score: float) -> int:
    return max(t.arobases for t in grille.thresholds if t.min_score <= score)


def _score(grille: GrilleBody, category: Category, covered: set[str]) -> float:
    """The pré-notation formula the thresholds are designed for (see README: weighted coverage)."""
    applicable = [s for s in grille.services if category in s.applies_to]
    total = sum(s.weight for s in applicable)
    return round(100 * sum(s.weight for s in applicable if s.code in covered) / total, 1)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


# ------------------------------------------------------------------ shape and contract


@pytest.mark.parametrize("name", FILES)
def test_file_is_a_valid_grille_body_in_utf8(name: str) -> None:
    raw = FILES[name].read_bytes()
    data = json.loads(raw.decode("utf-8"))
    assert "version" not in data, "the service assigns the version at publication"
    GrilleBody.model_validate(data)


@pytest.mark.parametrize("name", FILES)
def test_service_count(grilles: dict[str, GrilleBody], name: str) -> None:
    assert len(grilles[name].services) == EXPECTED_SERVICES[name]


def test_editions_and_deadlines(grilles: dict[str, GrilleBody]) -> None:
    assert (grilles["2017"].edition, str(grilles["2017"].deadline)) == (2017, "2016-11-30")
    assert (grilles["2018"].edition, str(grilles["2018"].deadline)) == (2018, "2017-11-30")
    assert (grilles["2018-v2"].edition, grilles["2018-v2"].deadline) == (2018, grilles["2018"].deadline)
    assert all(g.title for g in grilles.values())


@pytest.mark.parametrize("name", FILES)
def test_four_categories_and_sixteen_enjeux(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    assert {c.label for c in grille.categories} == CATEGORY_LABELS
    assert len(grille.enjeux) == 16
    labels = {e.label for e in grille.enjeux}
    assert labels >= NAMED_ENJEUX
    assert len(labels - NAMED_ENJEUX) == 1, "exactly one 16th enjeu chosen by the project"
    per_category = Counter(e.category for e in grille.enjeux)
    assert set(per_category) == {c.code for c in grille.categories}


@pytest.mark.parametrize("name", FILES)
def test_every_enjeu_has_at_least_five_services(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    per_enjeu = Counter(s.enjeu for s in grille.services)
    thin = {e.code: per_enjeu[e.code] for e in grille.enjeux if per_enjeu[e.code] < 5}
    assert not thin


@pytest.mark.parametrize("name", FILES)
def test_codes_are_unique_short_ascii_snake_case(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    for codes in (
        [c.code for c in grille.categories],
        [e.code for e in grille.enjeux],
        [s.code for s in grille.services],
        [m.code for m in grille.mentions],
    ):
        assert len(codes) == len(set(codes))
        assert all(CODE.match(code) and len(code) <= 40 for code in codes), codes


def test_codes_are_stable_across_versions(grilles: dict[str, GrilleBody]) -> None:
    for name in ("2018", "2018-v2"):
        assert [c.code for c in grilles[name].categories] == [c.code for c in grilles["2017"].categories]
        assert [e.code for e in grilles[name].enjeux] == [e.code for e in grilles["2017"].enjeux]


@pytest.mark.parametrize("name", FILES)
def test_weights_follow_the_documented_scale(grilles: dict[str, GrilleBody], name: str) -> None:
    weights = Counter(s.weight for s in grilles[name].services)
    assert set(weights) <= {1, 2, 3, 4, 5}
    assert weights[5] <= 5, "5 is reserved to the core of the internet citoyen"


@pytest.mark.parametrize("name", FILES)
def test_thresholds(grilles: dict[str, GrilleBody], name: str) -> None:
    levels = sorted(grilles[name].thresholds, key=lambda t: t.arobases)
    assert [t.arobases for t in levels] == [1, 2, 3, 4, 5]
    assert levels[0].min_score == 0
    assert all(a.min_score < b.min_score for a, b in itertools.pairwise(levels))


# ------------------------------------------------------------------ applicability (adapted questionnaire)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("category", list(Category))
def test_every_kind_has_at_least_60_applicable_services(
    grilles: dict[str, GrilleBody], name: str, category: Category
) -> None:
    assert sum(category in s.applies_to for s in grilles[name].services) >= 60


@pytest.mark.parametrize("name", FILES)
def test_about_seventy_percent_of_services_apply_to_all_kinds(grilles: dict[str, GrilleBody], name: str) -> None:
    services = grilles[name].services
    share = sum(set(s.applies_to) == set(Category) for s in services) / len(services)
    assert 0.65 <= share <= 0.78


@pytest.mark.parametrize("name", FILES)
def test_applicability_examples(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]

    def kinds(code: str) -> set[Category]:
        service = grille.service(code)
        assert service is not None, code
        return set(service.applies_to)

    assert Category.VILLAGE not in kinds("gestion_flux_urbains")
    assert kinds("cooperation_intercommunale_numerique") == {Category.TERRITOIRE}
    assert Category.TERRITOIRE not in kinds("etat_civil_en_ligne")  # état civil: a commune's competence
    assert kinds("demarches_en_ligne") == set(Category)
    assert all(s.applies_to for s in grille.services)


# ------------------------------------------------------------------ pré-notation: thresholds make sense


@pytest.mark.parametrize("name", FILES)
def test_score_to_arobases(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    assert _arobases(grille, 0) == 1
    assert _arobases(grille, 35) == 4, "a good small village covering 35 % gets 4 @"
    assert _arobases(grille, 45) == 5
    assert _arobases(grille, 100) == 5


def test_worked_example_of_the_readme_a_good_small_village_gets_4_arobases(grilles: dict[str, GrilleBody]) -> None:
    dossier = {
        "site_internet",
        "page_facebook",
        "lettre_information",
        "demarches_en_ligne",
        "etat_civil_en_ligne",
        "paiement_en_ligne",
        "urbanisme_en_ligne",
        "teletransmission_actes",
        "dematerialisation_comptable",
        "marches_publics_dematerialises",
        "deliberations_en_ligne",
        "inscriptions_scolaires_en_ligne",
        "paiement_cantine",
        "ent_ecoles",
        "equipement_numerique_ecoles",
        "connexion_ecoles",
        "menus_cantine",
        "mediatheque_numerique",
        "catalogue_bibliotheque",
        "espace_public_numerique",
        "ateliers_initiation",
        "accompagnement_seniors",
        "wifi_public",
        "alertes_population",
        "tres_haut_debit",
        "reservation_salles",
        "annuaire_associations",
        "acces_aux_droits",
    }
    grille = grilles["2017"]
    score = _score(grille, Category.VILLAGE, dossier)
    assert score == 33.2
    assert _arobases(grille, score) == 4
    # The same actions in a ville: more applies, so the same dossier weighs less.
    assert _arobases(grille, _score(grille, Category.VILLE, dossier)) == 3


# ------------------------------------------------------------------ mentions


def test_mentions_of_each_edition(grilles: dict[str, GrilleBody]) -> None:
    assert {m.code for m in grilles["2017"].mentions} == MENTIONS_2017
    assert {m.code for m in grilles["2018"].mentions} == MENTIONS_2018
    assert {m.code for m in grilles["2018-v2"].mentions} == MENTIONS_2018


@pytest.mark.parametrize("name", FILES)
def test_mention_rules_are_complete(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    codes = {s.code for s in grille.services}
    for rule in grille.mentions:
        assert rule.label and rule.min_evidence == 1
        assert rule.service_codes and set(rule.service_codes) <= codes, rule.code
        assert len(rule.terms) >= 5 and rule.exclusions, rule.code
        assert len(set(rule.terms)) == len(rule.terms) and len(set(rule.exclusions)) == len(rule.exclusions)
        assert not {_strip_accents(t) for t in rule.terms} & {_strip_accents(e) for e in rule.exclusions}


@pytest.mark.parametrize("name", FILES)
def test_each_mention_says_which_services_suffice_and_the_services_how_texts_describe_them(
    grilles: dict[str, GrilleBody], name: str
) -> None:
    grille = grilles[name]
    # Some services are the mention's practice itself (a Facebook page); the others are hints (docs/mentions.md).
    for rule in grille.mentions:
        assert rule.sufficient_services and set(rule.sufficient_services) <= set(rule.service_codes), rule.code
    hints = {c for rule in grille.mentions for c in rule.service_codes if c not in rule.sufficient_services}
    assert {"budget_explique", "deliberations_en_ligne", "ateliers_initiation"} <= hints
    described = [s for s in grille.services if s.terms]
    assert len(described) >= 0.9 * len(grille.services)
    for service in described:
        assert len(set(service.terms)) == len(service.terms), service.code
        alone = {_words(t) for t in service.terms}
        assert not any(a.startswith(_words(e)) for a in alone for e in service.exclusions), service.code


def _words(text: str) -> str:
    return " ".join(re.split(r"[\s'’-]+", _strip_accents(text))).strip()


@pytest.mark.parametrize("name", FILES)
def test_no_term_is_swallowed_by_an_exclusion_of_its_rule(grilles: dict[str, GrilleBody], name: str) -> None:
    # A term occurrence that starts inside an exclusion does not count: a term must
    # still count when it stands alone, or it would be dead.
    for rule in grilles[name].mentions:
        for term in rule.terms:
            alone = _words(term)
            assert not any(alone.startswith(_words(e)) for e in rule.exclusions), (rule.code, term)


def test_expected_terms_and_homonyms(grilles: dict[str, GrilleBody]) -> None:
    rules = {m.code: m for m in grilles["2017"].mentions}
    assert {"données ouvertes", "open data", "data.gouv.fr", "jeux de données"} <= set(
        rules["gouvernement_ouvert"].terms
    )
    assert {"horaires d’ouverture", "ouvert le samedi"} <= set(rules["gouvernement_ouvert"].exclusions)
    assert {"télétravail", "coworking", "tiers-lieu", "travail à distance"} <= set(rules["teletravail"].terms)
    assert {"Facebook", "Twitter", "Instagram", "Mastodon", "YouTube", "réseau social local"} <= set(
        rules["reseaux_sociaux"].terms
    )
    assert {"réseau d’eau", "réseau de chaleur", "réseau d’assainissement"} <= set(rules["reseaux_sociaux"].exclusions)
    assert "coopération intercommunale" in rules["cooperation_internationale"].exclusions


# ------------------------------------------------------------------ changelog = diff


def test_first_grille_changelog_records_only_its_calibration(grilles: dict[str, GrilleBody]) -> None:
    # No grille before it: its only change is the calibration of its thresholds on the jury
    # (`palmares grille calibrer 2017`), from the designed 10 / 20 / 32 / 45 to its own.
    [entry] = grilles["2017"].changelog
    assert (entry.change, entry.service_code, entry.category) == (ChangeKind.THRESHOLDS, None, None)
    after = " / ".join(f"{t.min_score:g}" for t in sorted(grilles["2017"].thresholds, key=lambda t: t.arobases)[1:])
    assert entry.detail == f"seuils : 10 / 20 / 32 / 45 → {after}"
    # The next editions keep them: no thresholds entry in their changelogs.
    for name in ("2018", "2018-v2"):
        assert grilles[name].thresholds == grilles["2017"].thresholds
        assert all(e.change is not ChangeKind.THRESHOLDS for e in grilles[name].changelog)


@pytest.mark.parametrize(("old", "new"), SUCCESSION)
def test_changelog_is_exactly_the_computed_diff(grilles: dict[str, GrilleBody], old: str, new: str) -> None:
    computed = changelog.diff(grilles[old], grilles[new])
    declared = grilles[new].changelog
    assert changelog.compare(declared, computed) == []
    assert [(e.change, e.service_code) for e in declared] == [(e.change, e.service_code) for e in computed]
    for entry, canonical in zip(declared, computed, strict=True):
        motif = entry.detail.removeprefix(canonical.detail)
        assert motif == "" or (motif.startswith(changelog.MOTIF_SEPARATOR) and len(motif) > 5)


def test_changes_2017_to_2018(grilles: dict[str, GrilleBody]) -> None:
    entries = grilles["2018"].changelog
    kinds = Counter(e.change for e in entries)
    assert kinds == {
        ChangeKind.ADDED: 8,
        ChangeKind.REMOVED: 7,
        ChangeKind.REWORDED: 6,
        ChangeKind.REWEIGHTED: 5,
        ChangeKind.MOVED: 1,
        ChangeKind.APPLICABILITY: 1,
    }
    added = {e.service_code for e in entries if e.change == ChangeKind.ADDED}
    assert {"lutte_desinformation", "ecoconception_services", "rgpd_dpo", "chatbot_municipal", "franceconnect"} <= added


def test_about_twenty_percent_of_the_grille_changes_each_year(grilles: dict[str, GrilleBody]) -> None:
    changed = changelog.changed_services(grilles["2017"], grilles["2018"])
    share = len(changed) / len(grilles["2017"].services)
    assert 0.15 <= share <= 0.25


def test_version_2_is_a_small_correction(grilles: dict[str, GrilleBody]) -> None:
    entries = grilles["2018-v2"].changelog
    assert 5 <= len(entries) <= 8
    kinds = Counter(e.change for e in entries)
    assert kinds[ChangeKind.REWEIGHTED] == 2
    assert kinds[ChangeKind.ADDED] == 1
    assert kinds[ChangeKind.REWORDED] >= 1
    assert kinds[ChangeKind.APPLICABILITY] == 1
    assert kinds[ChangeKind.REMOVED] == 0, "a mid-campaign correction never removes what dossiers may declare"


def test_diff_detects_each_kind_of_change(grilles: dict[str, GrilleBody]) -> None:
    old = grilles["2017"]
    first, second = old.services[0], old.services[1]
    changed = old.model_copy(
        update={
            "services": (
                first.model_copy(
                    update={
                        "label": first.label + " (nouveau libellé)",
                        "weight": first.weight - 1,
                        "enjeu": "innovation",
                        "applies_to": (Category.VILLE,),
                    }
                ),
                *old.services[2:],
            )
        }
    )
    details = {(e.change, e.service_code): e.detail for e in changelog.diff(old, changed)}
    assert details == {
        (ChangeKind.REMOVED, second.code): f"retrait : « {second.label} »",
        (ChangeKind.MOVED, first.code): "enjeu « Services publics » → « Innovation »",
        (ChangeKind.REWORDED, first.code): f"libellé : « {first.label} » → « {first.label} (nouveau libellé) »",
        (ChangeKind.REWEIGHTED, first.code): "poids 5 → 4",
        (ChangeKind.APPLICABILITY, first.code): "applicabilité : villages, villes, territoires → villes",
    }
    assert changelog.diff(old, old) == []


def test_diff_records_threshold_changes(grilles: dict[str, GrilleBody]) -> None:
    old = grilles["2017"]
    general = tuple(
        t.model_copy(update={"min_score": t.min_score + 1 if t.arobases > 1 else 0}) for t in old.thresholds
    )
    village = CategoryThresholds(
        category=Category.VILLAGE,
        thresholds=tuple(Threshold(arobases=a, min_score=m) for a, m in ((1, 0), (2, 6), (3, 12), (4, 20), (5, 30))),
    )
    changed = old.model_copy(update={"thresholds": general, "category_thresholds": (village,)})
    entries = changelog.diff(old, changed)
    scale = " / ".join(f"{t.min_score:g}" for t in sorted(old.thresholds, key=lambda t: t.arobases)[1:])
    raised = " / ".join(f"{t.min_score + 1:g}" for t in sorted(old.thresholds, key=lambda t: t.arobases)[1:])
    assert [(e.change, e.service_code, e.category, e.detail) for e in entries] == [
        (ChangeKind.THRESHOLDS, None, None, f"seuils : {scale} → {raised}"),
        (ChangeKind.THRESHOLDS, None, Category.VILLAGE, "seuils des villages : seuils généraux → 6 / 12 / 20 / 30"),
    ]
    assert changelog.compare(entries, entries) == []
    # A missing category entry, and the general one declared for the wrong category.
    problems = changelog.compare([entries[0].model_copy(update={"category": Category.VILLE})], entries)
    assert any(p.startswith("manquante : thresholds général") for p in problems)
    assert any(p.startswith("manquante : thresholds villages") for p in problems)
    assert any(p.startswith("en trop : thresholds villes") for p in problems)
    # Dropping the category's own thresholds is a change too, and the entry keeps its motif.
    back = changelog.diff(changed, old)
    assert back[-1].detail == "seuils des villages : 6 / 12 / 20 / 30 → seuils généraux"
    motif = back[-1].model_copy(update={"detail": back[-1].detail + changelog.MOTIF_SEPARATOR + "trop peu de villages"})
    assert changelog.merge_motifs(back, [motif])[-1] == motif
    assert changelog.entry_json(back[-1]) == {
        "change": "thresholds",
        "detail": back[-1].detail,
        "category": "village",
    }


def test_cli_checks_a_changelog(tmp_path: Path) -> None:
    tool = str(GRILLES / "changelog.py")
    ok = subprocess.run(
        [sys.executable, tool, str(FILES["2017"]), str(FILES["2018"])], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert len(json.loads(ok.stdout)) == 28

    data = json.loads(FILES["2018"].read_text(encoding="utf-8"))
    data["changelog"] = data["changelog"][1:]
    data["changelog"][0]["detail"] = "poids 1 → 9"
    tampered = tmp_path / "grille-2018.json"
    tampered.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    ko = subprocess.run(
        [sys.executable, tool, str(FILES["2017"]), str(tampered)], capture_output=True, text=True, check=False
    )
    assert ko.returncode == 1
    assert "manquante" in ko.stderr and "détail différent" in ko.stderr

    assert (
        subprocess.run([sys.executable, tool, str(FILES["2017"]), str(tampered), "--write"], check=False).returncode
        == 0
    )
    rewritten = json.loads(tampered.read_text(encoding="utf-8"))["changelog"]
    original = json.loads(FILES["2018"].read_text(encoding="utf-8"))["changelog"]
    # The dropped and the tampered entries come back without motif; the others keep theirs.
    assert [e["service_code"] for e in rewritten] == [e["service_code"] for e in original]
    assert changelog.MOTIF_SEPARATOR not in rewritten[0]["detail"] + rewritten[1]["detail"]
    assert rewritten[2:] == original[2:]


def test_files_are_in_the_house_layout() -> None:
    for path in FILES.values():
        text = path.read_text(encoding="utf-8")
        assert changelog.dump_grille(json.loads(text)) == text, f"{path.name}: re-run the formatter (see README)"


# ------------------------------------------------------------------ French text quality

# Words that must carry an accent: their bare ASCII form is a misspelling in these texts.
UNACCENTED = re.compile(
    r"\b(numerique|numeriques|donnees|democratie|ecole|ecoles|electronique|education|elus|reseau|reseaux|"
    r"securite|accessibilite|equipement|equipements|evenement|evenements|telephone|teletravail|cooperation|"
    r"mediation|developpement|economique|creation|solidarite|cohesion|identite|activite|activites|acces|"
    r"reservation|reservations|demarche|demarches|deliberations|collectivite|collectivites|mediatheque|"
    r"bibliotheque|etat|intercommunalite|debat|debats|reglement|a distance)\b",
    re.IGNORECASE,
)


def _french_texts(grille: GrilleBody) -> list[str]:
    texts = [grille.title]
    texts += [c.label for c in grille.categories] + [e.label for e in grille.enjeux]
    texts += [s.label for s in grille.services] + [s.description for s in grille.services]
    texts += [m.label for m in grille.mentions] + [t for m in grille.mentions for t in (*m.terms, *m.exclusions)]
    texts += [t for s in grille.services for t in (*s.terms, *s.exclusions)]
    texts += [e.detail for e in grille.changelog]
    return texts


@pytest.mark.parametrize("name", FILES)
def test_french_is_accented_and_tidy(grilles: dict[str, GrilleBody], name: str) -> None:
    grille = grilles[name]
    for text in _french_texts(grille):
        assert not UNACCENTED.search(text), text
        assert text == text.strip() and "  " not in text, text
        assert "'" not in text, f"typographic apostrophe expected: {text}"
    for service in grille.services:
        assert service.label[0].isupper() or service.label[0].isdigit(), service.label
        assert service.description.endswith("."), service.code
        assert changelog.MOTIF_SEPARATOR not in service.label, service.code
    for enjeu in grille.enjeux:
        assert enjeu.label[0].isupper()


@pytest.mark.parametrize("name", list(FILES))
def test_essential_services_are_a_handful_of_broadly_applicable_ones(grilles: dict[str, GrilleBody], name: str) -> None:
    essentiels = grilles[name].essentiels
    assert {s.code for s in essentiels} == {
        "demarches_en_ligne",
        "paiement_en_ligne",
        "site_internet",
        "accessibilite_rgaa",
        "acces_aux_droits",
        "espace_public_numerique",
        "tres_haut_debit",
        "couverture_mobile",
    }
    # Essentials must be comparable across the country: every kind of collectivité can run most of them.
    assert all(Category.VILLAGE in s.applies_to for s in essentiels)
    # A grille without the field (older ones) designates none.
    older = grilles[name].model_dump(mode="json")
    older["services"] = [{k: v for k, v in s.items() if k != "essentiel"} for s in older["services"]]
    assert GrilleBody.model_validate(older).essentiels == ()


def test_a_change_of_essential_services_is_noted() -> None:
    old = changelog.load_grille(FILES["2018"])
    data = json.loads(FILES["2018"].read_text(encoding="utf-8"))
    next(s for s in data["services"] if s["code"] == "wifi_public")["essentiel"] = True
    new = GrilleBody.model_validate(data)
    assert "services essentiels : + wifi_public" in changelog.other_differences(old, new)
    assert changelog.diff(old, new) == []  # not a change of the service's scoring


def test_an_added_service_keeps_the_theme_it_cites_when_the_changelog_is_rewritten() -> None:
    old, new = changelog.load_grille(GRILLES / "grille-2017.json"), changelog.load_grille(GRILLES / "grille-2018.json")
    computed = changelog.diff(old, new)
    added = next(e for e in computed if e.change is ChangeKind.ADDED and e.service_code == "chatbot_municipal")
    cited = added.model_copy(update={"theme": "chatbot"})
    merged = changelog.merge_motifs(computed, [cited])
    assert next(e for e in merged if e.service_code == "chatbot_municipal").theme == "chatbot"
    assert changelog.compare([*(e for e in computed if e != added), cited], computed) == []  # the check ignores it
    assert changelog.entry_json(cited)["theme"] == "chatbot"
