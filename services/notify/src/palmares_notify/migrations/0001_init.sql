-- What notify knows of each dossier: its current revision, its collectivité,
-- and the trace context of the request that submitted it.
-- Like `results` below, the same shape as tables of other services' schemas
-- (the evaluation's `dossiers`, submission's `results`), kept on purpose: each
-- service keeps what it learned from the events in its own schema, and never
-- reads another's.
CREATE TABLE dossiers (
    submission_id     uuid PRIMARY KEY,
    edition           int  NOT NULL,
    collectivite_code text NOT NULL,
    revision          int  NOT NULL,
    collectivite      jsonb NOT NULL,
    trace_context     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX dossiers_by_edition ON dossiers (edition);

-- Latest score and mentions of each dossier (by revision, then grille version).
CREATE TABLE results (
    submission_id  uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('score', 'mentions')),
    revision       int  NOT NULL,
    grille_version int  NOT NULL,
    payload        jsonb NOT NULL,
    PRIMARY KEY (submission_id, kind)
);

CREATE TABLE jury_decisions (
    submission_id uuid PRIMARY KEY,
    arobases      int  NOT NULL,
    comment       text NOT NULL,
    decided_by    text NOT NULL
);

-- Editions: the latest grille version (awards wait for results under it) and
-- the publication of the palmarès.
CREATE TABLE editions (
    edition        int PRIMARY KEY,
    grille_version int,
    published_at   timestamptz,
    ceremony       jsonb,
    trace_context  jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Every email, rendered once (so a resend is byte-identical, same Message-ID),
-- with its send state. Stable ids: uuid5 of (kind, dossier, revision).
CREATE TABLE notifications (
    notification_id   uuid PRIMARY KEY,
    kind              text NOT NULL,
    submission_id     uuid NOT NULL,
    revision          int  NOT NULL,
    edition           int  NOT NULL,
    collectivite_code text NOT NULL,
    to_addr           text NOT NULL,
    message_id        text NOT NULL,
    message           bytea NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          int  NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    trace_context     jsonb NOT NULL DEFAULT '{}'::jsonb,
    links             jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_by_submission ON notifications (submission_id);
