"""When an award is due, and when a jury decision sends a rectificatif (`palmares_notify.awards`, pure)."""

from __future__ import annotations

import dataclasses
import itertools

from palmares_notify.awards import Announcement, AwardState, Version, award_due, chunk_sizes, rectificatif_due

READY = AwardState(
    palmares_published=True,
    jury_events_seen=1,
    jury_events_expected=1,
    revision=2,
    grille_version=3,
    score=Version(2, 3),
    mentions=Version(2, 3),
    award_queued=False,
)


def test_due_once_everything_it_depends_on_is_known() -> None:
    assert award_due(READY)


def test_not_before_the_palmares_nor_before_the_jury_decisions_it_waits_for() -> None:
    assert not award_due(dataclasses.replace(READY, palmares_published=False))
    assert not award_due(dataclasses.replace(READY, jury_events_seen=0))
    assert award_due(dataclasses.replace(READY, jury_events_seen=2)), "a decision after the palmarès does not hold it"


def test_not_until_both_results_are_those_of_the_final_revision_under_the_latest_grille() -> None:
    for stale in (None, Version(1, 3), Version(2, 2)):
        assert not award_due(dataclasses.replace(READY, score=stale))
        assert not award_due(dataclasses.replace(READY, mentions=stale))


def test_an_edition_whose_grille_was_not_read_counts_as_version_0() -> None:
    unknown = dataclasses.replace(READY, grille_version=None, score=Version(2, 0), mentions=Version(2, 0))
    assert award_due(unknown)


def test_never_twice() -> None:
    assert not award_due(dataclasses.replace(READY, award_queued=True))


def test_a_rectificatif_only_after_the_award_and_only_if_the_arobases_change() -> None:
    awarded = dataclasses.replace(READY, award_queued=True)
    assert rectificatif_due(awarded, Announcement(3, frozenset()), Announcement(4, frozenset()))
    assert not rectificatif_due(awarded, Announcement(4, frozenset()), Announcement(4, frozenset()))
    assert not rectificatif_due(READY, None, Announcement(4, frozenset())), "the award will carry it"


def test_a_rectificatif_when_only_the_final_mentions_change() -> None:
    awarded = dataclasses.replace(READY, award_queued=True)
    announced = Announcement(4, frozenset({"solidarite", "ecologie"}))
    assert rectificatif_due(awarded, announced, Announcement(4, frozenset({"solidarite"}))), "a mention removed"
    assert rectificatif_due(awarded, announced, Announcement(4, announced.mentions | {"sante"})), "a mention added"
    assert rectificatif_due(awarded, announced, Announcement(4, frozenset())), "every mention removed"
    assert not rectificatif_due(awarded, announced, Announcement(4, frozenset({"ecologie", "solidarite"})))
    assert not rectificatif_due(READY, None, Announcement(4, frozenset())), "before the award, nothing to correct"


def test_an_award_announced_before_its_mentions_were_kept_is_compared_on_its_arobases() -> None:
    awarded = dataclasses.replace(READY, award_queued=True)
    assert not rectificatif_due(awarded, Announcement(4, None), Announcement(4, frozenset({"sante"})))
    assert rectificatif_due(awarded, Announcement(4, None), Announcement(3, frozenset({"sante"})))


def test_an_award_pass_starts_with_a_small_chunk_and_grows_to_the_largest() -> None:
    assert list(itertools.islice(chunk_sizes(10, 100), 5)) == [10, 40, 100, 100, 100]
    assert list(itertools.islice(chunk_sizes(10, 3), 3)) == [3, 3, 3], "never above the largest"
    assert next(chunk_sizes(0, 100)) == 1, "never empty: the pass would not move"
