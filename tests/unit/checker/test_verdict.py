"""The campaign checker's rules, on hand-made histories and observations (no servers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.checker.history import History, load
from tools.checker.verdict import Evaluation, Letter, MailSeen, Observed, acknowledged, check

SID = "11111111-1111-1111-1111-111111111111"


def submit(history: History, code: str, key: str, *, revision: int | None, attempt: int = 1, status: int = 202) -> None:
    history.record(code, "invoke", "submit", key=key, attempt=attempt, edition=2031, contact=f"{code}@x.example")
    if revision is None:
        history.record(code, "info", "submit", key=key, attempt=attempt, error="ReadTimeout")
    elif status >= 400:
        history.record(code, "fail", "submit", key=key, attempt=attempt, status=status)
    else:
        value = {"submission_id": SID, "revision": revision}
        history.record(code, "ok", "submit", key=key, attempt=attempt, status=202, value=value)


def healthy(revision: int = 1, **changes: Any) -> Observed:
    """What a correct run of one dossier (collectivité 49007) leaves behind."""
    base: dict[str, Any] = {
        "statuses": {SID: {"revision": revision, "status": "notified"}},
        "evaluations": [
            Evaluation(kind, f"{kind}-{r}", SID, r, 1) for kind in ("score", "mentions") for r in range(1, revision + 1)
        ],
        "grille_version": 1,
        "mails": [MailSeen("receipt", "49007@x.example", f"<r{r}>", f"d{r}") for r in range(1, revision + 1)]
        + [MailSeen("award", "49007@x.example", "<a>", "da")],
        "palmares": {"49007"},
        "dead_letters": [],
    }
    base.update(changes)
    return Observed(**base)


def one_dossier(retry: bool = False) -> History:
    history = History()
    if retry:
        submit(history, "49007", "k1", revision=None)
        submit(history, "49007", "k1", revision=1, attempt=2)
    else:
        submit(history, "49007", "k1", revision=1)
    return history


def test_a_correct_run_is_valid_and_counts_the_retries() -> None:
    history = one_dossier(retry=True)
    verdict = check(list(history), healthy())
    assert verdict.valid, verdict.anomalies
    assert verdict.counts["client_retries"] == 1
    assert verdict.counts["receipts"] == 1 and verdict.counts["awards"] == 1


def test_an_acknowledged_dossier_missing_is_lost() -> None:
    verdict = check(list(one_dossier()), healthy(statuses={SID: None}))
    assert not verdict.valid and verdict.counts["lost"] == 1


def test_a_revision_older_than_acknowledged_is_flagged() -> None:
    history = one_dossier()
    submit(history, "49007", "k2", revision=2)
    verdict = check(list(history), healthy(revision=1))
    assert any("revision 1, acknowledged 2" in a for a in verdict.anomalies)


def test_an_indeterminate_attempt_may_have_made_a_later_revision() -> None:
    history = one_dossier()
    submit(history, "49007", "k2", revision=None)  # never answered: the revision may exist
    assert acknowledged(list(history))["49007"].indeterminate == 1
    assert check(list(history), healthy(revision=2)).valid


def test_two_evaluations_of_the_same_revision_and_grille_version_are_flagged() -> None:
    observed = healthy()
    twice = [*observed.evaluations, Evaluation("score", "another-event", SID, 1, 1)]
    verdict = check(list(one_dossier()), healthy(evaluations=twice))
    assert verdict.counts["evaluated_twice"] == 1
    # The same event read twice (the relay republished it) is one evaluation.
    again = [*observed.evaluations, observed.evaluations[0]]
    assert check(list(one_dossier()), healthy(evaluations=again)).valid


def test_a_dossier_never_evaluated_under_the_latest_grille_is_flagged() -> None:
    verdict = check(list(one_dossier()), healthy(grille_version=2))
    assert verdict.counts["not_evaluated"] == 2


def test_a_second_award_is_a_duplicate_and_a_resend_must_be_identical() -> None:
    mails = [*healthy().mails, MailSeen("award", "49007@x.example", "<a2>", "other")]
    verdict = check(list(one_dossier()), healthy(mails=mails))
    assert verdict.counts["duplicated_as_seen_by_users"] == 1
    resent = [*healthy().mails, MailSeen("award", "49007@x.example", "<a>", "da")]
    verdict = check(list(one_dossier()), healthy(mails=resent))
    assert verdict.valid and verdict.counts["resent_in_smtp_window"] == 1
    changed = [*healthy().mails, MailSeen("award", "49007@x.example", "<a>", "changed")]
    assert not check(list(one_dossier()), healthy(mails=changed)).valid


def test_a_missing_receipt_is_flagged() -> None:
    verdict = check(list(one_dossier()), healthy(mails=[MailSeen("award", "49007@x.example", "<a>", "da")]))
    assert any("0 receipts for 1 revisions" in a for a in verdict.anomalies)


def test_the_palmares_must_be_the_evaluated_dossiers() -> None:
    assert not check(list(one_dossier()), healthy(palmares={"49007", "75056"})).valid
    assert not check(list(one_dossier()), healthy(palmares=None)).valid
    assert check(list(one_dossier()), healthy(palmares=None, mails=healthy().mails[:1]), palmares_expected=False).valid


def test_dead_letters_must_be_explained() -> None:
    letter = Letter("submissions.v1.dlq", "scoring.submissions.v1", "handler:KeyError", "boom", 0)
    assert not check(list(one_dossier()), healthy(dead_letters=[letter])).valid
    assert check(list(one_dossier()), healthy(dead_letters=[letter]), explained=["handler:KeyError"]).valid


def test_an_old_poison_record_dead_lettered_again_by_a_replay_is_explained() -> None:
    again = Letter("submissions.v1.dlq", "notify.submissions.v1", "undecodable", "not JSON", 0, again=True)
    verdict = check(list(one_dossier()), healthy(dead_letters=[again]))
    assert verdict.valid and verdict.counts["dead_letters_again"] == 1


def test_a_stuck_dossier_is_flagged() -> None:
    verdict = check(list(one_dossier()), healthy(statuses={SID: {"revision": 1, "status": "evaluated"}}))
    assert verdict.counts["stuck"] == 1


def test_the_history_is_written_as_json_lines_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = History(path)
    submit(history, "49007", "k1", revision=None)
    submit(history, "49007", "k1", revision=1, attempt=2)
    assert list(load(path)) == list(history)
    assert [e.type for e in load(path)] == ["invoke", "info", "invoke", "ok"]
