"""Compare a campaign's history with the final state it observed: pure, no I/O.

What must hold once the faults have healed (docs/reliability.md, "The checker"):
1. every acknowledged dossier is present with its last acknowledged revision
   (a later one only if an indeterminate attempt may have made it), and notified;
2. each (dossier, revision, grille version) is evaluated at most once by
   scoring and by mentions (one event id, however many copies of it the topics
   hold), and the final revision under the edition's latest grille exactly once;
3. the SMTP server saw exactly one receipt per revision and, once the palmarès
   is published, exactly one award per collectivité (copies with the same
   Message-ID are resends in the SMTP window: counted, and must be identical);
4. the palmarès lists exactly the collectivités whose dossiers were evaluated;
5. no dead letter written during the campaign is left unexplained (the campaign names the
   error types it caused; a record dead-lettered again by the consumer that had
   dead-lettered it before the campaign, when a rebuilt service replays the log, is explained).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.checker.history import Entry


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A `SubmissionScored` or `MentionsDetected` record read back from its topic."""

    kind: str  # "score" | "mentions"
    event_id: str
    submission_id: str
    revision: int
    grille_version: int


@dataclass(frozen=True, slots=True)
class MailSeen:
    """A message as the SMTP server received it."""

    kind: str
    to: str
    message_id: str
    digest: str  # of the whole message: a resend in the SMTP window is byte-identical


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter written while the campaign ran."""

    topic: str
    consumer: str
    error_type: str
    error: str
    timestamp_ms: int
    # The same consumer had dead-lettered the same source record before the campaign: a replay of
    # the log (a service rebuilt from the topics) read an old poison record again.
    again: bool = False


@dataclass
class Observed:
    """The final state, read through the public API, the topics and the SMTP capture."""

    statuses: Mapping[str, Mapping[str, Any] | None]  # submission_id → status view (None: 404)
    evaluations: Sequence[Evaluation]
    grille_version: int | None  # the edition's latest
    mails: Sequence[MailSeen]
    palmares: set[str] | None  # collectivité codes; None when not published
    dead_letters: Sequence[Letter]


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """What the history says of one collectivité's dossier."""

    code: str
    contact: str
    submission_id: str | None  # None: no attempt was ever acknowledged
    last_revision: int  # the highest acknowledged revision (0: none)
    indeterminate: int  # keys never acknowledged nor refused: they may have made a revision
    keys: int  # distinct intended revisions


@dataclass
class Verdict:
    """The checker's answer: `valid` when no anomaly was found, with the counts of the report."""

    anomalies: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.anomalies

    def flag(self, what: str) -> None:
        self.anomalies.append(what)


def acknowledged(history: Iterable[Entry]) -> dict[str, Acknowledged]:
    """Per collectivité, what its submit operations were told."""
    outcome: dict[str, dict[str, str]] = defaultdict(dict)  # code → key → ok/fail/info
    revisions: dict[str, list[tuple[int, str]]] = defaultdict(list)
    contacts: dict[str, str] = {}
    for entry in history:
        if entry.f != "submit":
            continue
        if entry.contact:
            contacts[entry.process] = entry.contact
        keys = outcome[entry.process]
        if entry.type == "invoke":
            keys.setdefault(entry.key, "info")
        elif entry.type == "ok" and entry.value is not None:
            keys[entry.key] = "ok"
            revisions[entry.process].append((int(entry.value["revision"]), str(entry.value["submission_id"])))
        elif entry.type == "fail" and keys.get(entry.key) != "ok":
            keys[entry.key] = "fail"
    found = {}
    for code, keys in outcome.items():
        acks = sorted(revisions.get(code, []))
        found[code] = Acknowledged(
            code=code,
            contact=contacts.get(code, ""),
            submission_id=acks[-1][1] if acks else None,
            last_revision=acks[-1][0] if acks else 0,
            indeterminate=sum(1 for state in keys.values() if state == "info"),
            keys=len(keys),
        )
    return found


def client_retries(history: Iterable[Entry]) -> int:
    """Attempts beyond the first of each operation (same key, or same process and operation without one)."""
    return sum(1 for e in history if e.type == "invoke" and e.attempt > 1)


def check(
    history: Sequence[Entry],
    observed: Observed,
    *,
    palmares_expected: bool = True,
    explained: Iterable[str] = (),
) -> Verdict:
    """Every rule of the module's docstring; `explained` lists the dead letters' error types the campaign caused on purpose."""
    verdict = Verdict()
    dossiers = acknowledged(history)
    verdict.counts["acknowledged"] = sum(1 for d in dossiers.values() if d.submission_id)
    verdict.counts["client_retries"] = client_retries(history)
    verdict.counts["indeterminate"] = sum(d.indeterminate for d in dossiers.values())
    by_submission = {d.submission_id: d for d in dossiers.values() if d.submission_id}

    stuck = lost = 0
    for d in dossiers.values():
        if d.submission_id is None:
            continue
        view = observed.statuses.get(d.submission_id)
        if view is None:
            lost += 1
            verdict.flag(f"{d.code}: acknowledged dossier {d.submission_id} is missing")
            continue
        revision = int(view["revision"])
        highest = d.last_revision + d.indeterminate
        if not d.last_revision <= revision <= highest:
            verdict.flag(f"{d.code}: revision {revision}, acknowledged {d.last_revision} (at most {highest})")
        wanted = "notified"
        if view["status"] != wanted:
            stuck += 1
            verdict.flag(f"{d.code}: status {view['status']!r}, not {wanted!r}")
    verdict.counts["lost"] = lost
    verdict.counts["stuck"] = stuck

    _check_evaluations(verdict, observed, by_submission)
    _check_mails(verdict, observed, dossiers, palmares_expected)
    _check_palmares(verdict, observed, dossiers, palmares_expected)
    _check_dead_letters(verdict, observed, set(explained))
    return verdict


def _check_evaluations(verdict: Verdict, observed: Observed, by_submission: Mapping[str, Acknowledged]) -> None:
    ids: dict[tuple[str, str, int, int], set[str]] = defaultdict(set)
    for e in observed.evaluations:
        if e.submission_id in by_submission:
            ids[(e.kind, e.submission_id, e.revision, e.grille_version)].add(e.event_id)
    twice = {k: v for k, v in ids.items() if len(v) > 1}
    for (kind, sid, revision, version), events in sorted(twice.items()):
        verdict.flag(f"{kind} of {sid} revision {revision} grille v{version} evaluated {len(events)} times")
    verdict.counts["evaluated_twice"] = len(twice)
    missing = 0
    for sid in by_submission:
        view = observed.statuses.get(sid)
        if view is None or observed.grille_version is None:
            continue
        for kind in ("score", "mentions"):
            if not ids.get((kind, sid, int(view["revision"]), observed.grille_version)):
                missing += 1
                verdict.flag(
                    f"{kind} of {sid} revision {view['revision']} grille v{observed.grille_version} never evaluated"
                )
    verdict.counts["not_evaluated"] = missing


def _check_mails(
    verdict: Verdict, observed: Observed, dossiers: Mapping[str, Acknowledged], palmares_expected: bool
) -> None:
    copies = Counter((m.kind, m.to, m.message_id) for m in observed.mails)
    digests: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for m in observed.mails:
        digests[(m.kind, m.to, m.message_id)].add(m.digest)
    for key, seen in digests.items():
        if len(seen) > 1:
            verdict.flag(f"{key[0]} {key[2]} to {key[1]} resent with a different content")
    distinct = Counter((kind, to) for kind, to, _ in copies)
    duplicated = 0
    receipts = awards = 0
    for d in dossiers.values():
        if d.submission_id is None:
            continue
        view = observed.statuses.get(d.submission_id)
        revisions = int(view["revision"]) if view else d.last_revision
        got = distinct.get(("receipt", d.contact), 0)
        receipts += got
        if got != revisions:
            verdict.flag(f"{d.code}: {got} receipts for {revisions} revisions")
        duplicated += max(0, got - revisions)
        if palmares_expected:
            got = distinct.get(("award", d.contact), 0)
            awards += got
            if got != 1:
                verdict.flag(f"{d.code}: {got} awards")
            duplicated += max(0, got - 1)
    verdict.counts["receipts"] = receipts
    verdict.counts["awards"] = awards
    verdict.counts["duplicated_as_seen_by_users"] = duplicated
    verdict.counts["resent_in_smtp_window"] = sum(n - 1 for n in copies.values())


def _check_palmares(
    verdict: Verdict, observed: Observed, dossiers: Mapping[str, Acknowledged], palmares_expected: bool
) -> None:
    if not palmares_expected:
        return
    if observed.palmares is None:
        verdict.flag("the palmarès is not published")
        return
    kinds: dict[str, set[str]] = defaultdict(set)
    for e in observed.evaluations:
        if e.grille_version == observed.grille_version:
            kinds[e.submission_id].add(e.kind)
    evaluated = {
        d.code for d in dossiers.values() if d.submission_id and kinds[d.submission_id] == {"score", "mentions"}
    }
    if observed.palmares != evaluated:
        extra, absent = sorted(observed.palmares - evaluated), sorted(evaluated - observed.palmares)
        verdict.flag(f"palmarès differs from the evaluated dossiers: extra {extra[:10]}, absent {absent[:10]}")
    verdict.counts["palmares"] = len(observed.palmares)


def _check_dead_letters(verdict: Verdict, observed: Observed, explained: set[str]) -> None:
    unexplained = [d for d in observed.dead_letters if d.error_type not in explained and not d.again]
    for d in unexplained[:20]:
        verdict.flag(f"dead letter on {d.topic} by {d.consumer}: {d.error_type} ({d.error[:200]})")
    verdict.counts["dead_letters"] = len(observed.dead_letters)
    verdict.counts["dead_letters_unexplained"] = len(unexplained)
    verdict.counts["dead_letters_again"] = sum(d.again for d in observed.dead_letters)
