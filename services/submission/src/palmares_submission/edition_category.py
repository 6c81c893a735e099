"""The collectivité of a dossier: population and category of the dossier's edition (pure).

A collectivité registers once; its dossier for an edition carries the
population in force at that edition's deadline (the reference data of the
millésime `refdata.millesime_for(edition)`) and the category that follows from
it, unless an operator overrode the category for that edition, with a reason.
A code that the edition's millésime does not know (created since) keeps its
registered population and category, with no millésime.
"""

from __future__ import annotations

from palmares_contracts import Category, CategoryOverride, Collectivite, CollectiviteKind

from palmares_submission import refdata


def dossier_collectivite(
    *,
    code: str,
    kind: str,
    name: str,
    departement: str,
    registered_population: int,
    registered_category: str,
    contact_email: str,
    edition: int,
    override: CategoryOverride | None,
    village_max_population: int,
) -> Collectivite:
    """The collectivité as the dossier of `edition` records it."""
    population, category, millesime = registered_population, Category(registered_category), None
    ref = refdata.lookup(code, refdata.millesime_for(edition))
    if ref is not None:
        population = ref.population
        category = Category(refdata.category_of(ref, village_max_population))
        millesime = ref.millesime
    # Letters name an EPCI by its full official name, from its type (CC, CA…).
    known = ref or refdata.lookup_latest(code)
    epci_type = known.epci_type if known is not None and known.kind == "epci" and known.epci_type else None
    return Collectivite(
        code=code,
        kind=CollectiviteKind(kind),
        name=name,
        population=population,
        departement=departement,
        contact_email=contact_email,
        category=override.category if override is not None else category,
        epci_type=epci_type,
        millesime=millesime,
        category_override=override,
    )
