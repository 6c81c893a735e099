-- Registered collectivités; identity, population and category come from the
-- reference data, never from a dossier. Tokens are stored as SHA-256 hashes.
CREATE TABLE collectivites (
    code          text PRIMARY KEY,
    kind          text NOT NULL,
    name          text NOT NULL,
    population    int  NOT NULL,
    departement   text NOT NULL,
    category      text NOT NULL,
    contact_email text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- An edition's campaign: open from the first grille until the palmarès.
CREATE TABLE editions (
    edition                int PRIMARY KEY,
    grille_version         int NOT NULL,
    opened_at              timestamptz NOT NULL DEFAULT now(),
    palmares_published_at  timestamptz,
    ceremony               jsonb
);

CREATE TABLE grilles (
    edition      int NOT NULL,
    version      int NOT NULL,
    grille       jsonb NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (edition, version)
);

-- One dossier per collectivité and edition; each submission is a new revision.
CREATE TABLE submissions (
    submission_id     uuid PRIMARY KEY,
    edition           int  NOT NULL,
    collectivite_code text NOT NULL REFERENCES collectivites (code),
    revision          int  NOT NULL,
    submitted_at      timestamptz NOT NULL,
    UNIQUE (edition, collectivite_code)
);

CREATE TABLE submission_revisions (
    submission_id uuid NOT NULL REFERENCES submissions (submission_id),
    revision      int  NOT NULL,
    event         jsonb NOT NULL,
    submitted_at  timestamptz NOT NULL,
    PRIMARY KEY (submission_id, revision)
);

CREATE TABLE idempotency_keys (
    collectivite_code text NOT NULL,
    key               text NOT NULL,
    request_hash      bytea NOT NULL,
    submission_id     uuid NOT NULL,
    revision          int  NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collectivite_code, key)
);

-- Status view, fed by scores.v1, mentions.v1 and notifications.v1: the latest
-- result of each kind (by revision, then grille version).
-- The same shape as notify's `results`, kept on purpose: each service keeps what
-- it learned from the events in its own schema; an applied migration never changes.
CREATE TABLE results (
    submission_id  uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('score', 'mentions')),
    revision       int  NOT NULL,
    grille_version int  NOT NULL,
    payload        jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, kind)
);

CREATE TABLE jury_decisions (
    submission_id uuid PRIMARY KEY REFERENCES submissions (submission_id),
    arobases      int  NOT NULL,
    comment       text NOT NULL,
    decided_by    text NOT NULL,
    decided_at    timestamptz NOT NULL
);

CREATE TABLE notifications (
    notification_id uuid PRIMARY KEY,
    submission_id   uuid,
    revision        int,
    edition         int  NOT NULL,
    collectivite_code text NOT NULL,
    kind            text NOT NULL,
    status          text NOT NULL CHECK (status IN ('sent', 'failed')),
    to_addr         text NOT NULL,
    message_id      text NOT NULL,
    reason          text,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX notifications_by_submission ON notifications (submission_id);
