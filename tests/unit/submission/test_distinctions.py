"""« Territoire d'excellence numérique »: at its 6th label at 5 @, from 2021 on."""

from __future__ import annotations

from palmares_submission.distinctions import EXCELLENCE, distinctions


def test_sixth_label_at_five_arobases() -> None:
    history = {2016: 5, 2017: 5, 2018: 4, 2019: 5, 2020: 5, 2021: 5, 2022: 5}
    assert distinctions(history, 2021) == []  # its 5th at 5 @
    assert distinctions(history, 2022) == [EXCELLENCE]  # its 6th


def test_only_with_five_arobases_this_edition() -> None:
    history = {2015: 5, 2016: 5, 2017: 5, 2018: 5, 2019: 5, 2020: 5, 2021: 4}
    assert distinctions(history, 2021) == []


def test_not_before_2021() -> None:
    history = {year: 5 for year in range(2010, 2021)}
    assert distinctions(history, 2020) == []
    assert distinctions({**history, 2021: 5}, 2021) == [EXCELLENCE]


def test_later_editions_do_not_count() -> None:
    history = {2021: 5, 2022: 5, 2023: 5, 2024: 5, 2025: 5, 2026: 5}
    assert distinctions(history, 2025) == []
    assert distinctions(history, 2026) == [EXCELLENCE]
