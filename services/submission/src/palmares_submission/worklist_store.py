"""SQL of the jury's worklist: one edition's dossiers, filtered, counted per tab, sorted, one window at a time.

Filtering happens in PostgreSQL (a national campaign has thousands of
dossiers). Two rules are therefore written here in SQL as well, each tested
against its Python definition on a real database
(tests/runtime/test_worklist_sql.py): « à revoir » (`WorklistRow.to_review_again`)
and the final mentions (`palmares_label.final.final_mentions`: the jury's when
it ruled on them, else the detected ones).
"""

from __future__ import annotations

import json

from palmares_eventkit.db import Connection

from palmares_submission.worklist import TabCounts, WorklistQuery, WorklistRow

# The jury decided on an older revision than the current one.
_TO_REVIEW_AGAIN = "(j.arobases IS NOT NULL AND coalesce(j.revision, 0) < s.revision)"
_FINAL_MENTIONS = "coalesce(j.mentions, m.payload->'mentions', '[]'::jsonb)"

_FROM = f"""
FROM submissions s
JOIN collectivites c ON c.code = s.collectivite_code
JOIN editions e ON e.edition = s.edition
LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
LEFT JOIN results m ON m.submission_id = s.submission_id AND m.kind = 'mentions'
LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
WHERE s.edition = $1
  AND ($2::text IS NULL OR c.category = $2)
  AND ($3::text[] IS NULL OR c.departement = ANY($3))
  AND ($4::int IS NULL OR (sc.payload->>'arobases')::int = $4)
  AND ($5::bool IS NULL OR (j.arobases IS NOT NULL) = $5)
  AND ($6::text IS NULL OR EXISTS (
        SELECT 1 FROM jsonb_array_elements({_FINAL_MENTIONS}) AS fm WHERE fm->>'code' = $6))
  AND ($7::text IS NULL OR c.code = $7 OR lower(c.name) LIKE '%' || $8 || '%' ESCAPE '\\')
"""

_TABS = {
    "a-examiner": f"(j.arobases IS NULL OR {_TO_REVIEW_AGAIN})",
    "decides": f"(j.arobases IS NOT NULL AND NOT {_TO_REVIEW_AGAIN})",
    "tous": "true",
}

_ORDER = {
    "nom": "lower(c.name) {dir}, s.submission_id",
    "prenotation": "(sc.payload->>'arobases')::int {dir} NULLS LAST, lower(c.name), s.submission_id",
    "departement": "c.departement {dir}, lower(c.name), s.submission_id",
    "depot": "s.submitted_at {dir}, s.submission_id",
}

_COLUMNS = f"""
SELECT s.submission_id, s.revision, c.code AS collectivite_code, c.name, c.category, c.departement,
       s.submitted_at, (sc.payload->>'arobases')::int AS arobases, (sc.payload->>'score')::float AS score,
       j.arobases AS jury_arobases, j.revision AS decision_revision,
       {_FINAL_MENTIONS} AS mentions, sc.revision AS score_revision, m.revision AS mentions_revision,
       EXISTS (SELECT 1 FROM notifications n WHERE n.submission_id = s.submission_id AND n.kind = 'receipt'
               AND n.status = 'sent' AND n.revision = s.revision) AS receipt_sent,
       EXISTS (SELECT 1 FROM notifications n WHERE n.submission_id = s.submission_id AND n.kind = 'award'
               AND n.status = 'sent') AS award_sent,
       e.palmares_published_at IS NOT NULL AS palmares_published
"""


def _like(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _args(query: WorklistQuery) -> list[object]:
    return [
        query.edition,
        query.category,
        query.departements,
        query.arobases,
        query.decided,
        query.mention,
        query.q,
        _like(query.q) if query.q else None,
    ]


async def counts(conn: Connection, query: WorklistQuery) -> TabCounts:
    """How many dossiers each tab holds under the query's filters."""
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE {_TABS["a-examiner"]}) AS a_examiner,
                   count(*) FILTER (WHERE {_TABS["decides"]}) AS decides, count(*) AS tous {_FROM}""",
        *_args(query),
    )
    assert row is not None  # an aggregate always answers one row
    return TabCounts(row["a_examiner"], row["decides"], row["tous"])


async def rows(conn: Connection, query: WorklistQuery, *, everything: bool = False) -> list[WorklistRow]:
    """The query's tab, sorted, within its window (`everything`: the whole tab, for the exports)."""
    order = _ORDER[query.sort].format(dir="DESC" if query.descending else "ASC")
    window = "" if everything else f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
    records = await conn.fetch(
        f"{_COLUMNS} {_FROM} AND {_TABS[query.tab]} ORDER BY {order}{window}",
        *_args(query),
    )
    return [
        WorklistRow(
            **{k: r[k] for k in r.keys() if k != "mentions"},  # noqa: SIM118 (a Record iterates its values)
            mentions=tuple(m["code"] for m in json.loads(r["mentions"])),
        )
        for r in records
    ]


async def to_review_again(conn: Connection, edition: int) -> int:
    """Decisions of the edition that are « à revoir » (the palmarès waits until there are none)."""
    count: int = await conn.fetchval(
        f"""SELECT count(*) FROM submissions s JOIN jury_decisions j ON j.submission_id = s.submission_id
            WHERE s.edition = $1 AND {_TO_REVIEW_AGAIN}""",
        edition,
    )
    return count
