"""When a dossier's award is due (pure: no I/O).

The award email tells a collectivité its final result, so it waits for
everything that result depends on; notify's topics are read independently,
in any order. An award is due once

- the palmarès of the dossier's edition is published;
- every jury decision published before the palmarès was read
  (`PalmaresPublished.jury_decisions`: jury.v1 is another topic, and the award
  must carry the jury's word rather than be corrected by a rectificatif);
- the score and the mentions kept for the dossier are those of its final
  revision under the edition's latest grille version (an edition whose grille
  notify has not read yet counts as version 0);
- and it was not queued already (one award per dossier, ever).

A jury decision read after the award sends a rectificatif when it changes
what the award (or the last rectificatif) announced: the final arobases or
the final mentions (`rectificatif_due`).

`store.award_candidates` filters an edition's dossiers by the same rule in
SQL, to lock and read only those; tests/runtime/test_notify_service.py
checks that SQL against `award_due`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Version:
    """A result's version: the dossier revision it evaluated, under which grille version."""

    revision: int
    grille_version: int


@dataclass(frozen=True, slots=True)
class AwardState:
    """What notify knows of a dossier and its edition, as far as its award is concerned."""

    palmares_published: bool
    jury_events_seen: int
    jury_events_expected: int
    revision: int
    grille_version: int | None  # the edition's latest grille version, None until notify read one
    score: Version | None  # the score kept (None: none read yet)
    mentions: Version | None
    award_queued: bool

    @property
    def final(self) -> Version:
        """The version the results must have: the dossier's revision under the latest grille."""
        return Version(self.revision, self.grille_version or 0)


def award_due(s: AwardState) -> bool:
    """Whether the dossier's award should be queued now (see the module's docstring)."""
    return (
        s.palmares_published
        and s.jury_events_seen >= s.jury_events_expected
        and s.score == s.final
        and s.mentions == s.final
        and not s.award_queued
    )


@dataclass(frozen=True, slots=True)
class Announcement:
    """What an award or a rectificatif announces: the final arobases and the codes of the final mentions."""

    arobases: int
    mentions: frozenset[str] | None  # None: announced before notify recorded the mentions it announces


def rectificatif_due(s: AwardState, announced: Announcement | None, decided: Announcement) -> bool:
    """Whether a jury decision read after the award sends a rectificatif: only if it changes what was announced.

    The final arobases or the final mentions (the jury removed or added one
    after the publication): the letter then « annule et remplace » the previous
    one. Before the award nothing was announced: the award itself will carry the
    decision. An award announced before notify kept its mentions is compared on
    its arobases alone.
    """
    if not s.award_queued or announced is None:
        return False
    if announced.arobases != decided.arobases:
        return True
    return announced.mentions is not None and announced.mentions != decided.mentions


def chunk_sizes(first: int, largest: int) -> Iterator[int]:
    """The sizes of an award pass's chunks: `first`, then four times more each time, up to `largest`.

    The first chunk is small so that its emails leave soon after the
    publication (its senders start once it commits); the later ones are large
    because a chunk's statements cost the same whatever its size.
    """
    size = max(1, min(first, largest))
    while True:
        yield size
        size = min(largest, size * 4)
