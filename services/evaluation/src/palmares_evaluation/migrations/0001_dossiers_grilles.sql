-- Every grille version the service has seen (it keeps them all).
CREATE TABLE grilles (
    edition     int NOT NULL,
    version     int NOT NULL,
    grille      jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (edition, version)
);

-- The current revision of each dossier, with the trace context of the request
-- that submitted it (re-evaluations join that dossier's trace).
-- The same shape as notify's `dossiers`, kept on purpose: each service keeps what
-- it learned from the events in its own schema; an applied migration never changes.
CREATE TABLE dossiers (
    submission_id     uuid PRIMARY KEY,
    edition           int  NOT NULL,
    collectivite_code text NOT NULL,
    revision          int  NOT NULL,
    event             jsonb NOT NULL,
    trace_context     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX dossiers_by_edition ON dossiers (edition);

-- One evaluation per dossier revision and grille version: this key is what
-- makes a re-evaluation happen once per dossier per version.
CREATE TABLE evaluations (
    submission_id  uuid NOT NULL,
    revision       int  NOT NULL,
    grille_version int  NOT NULL,
    event_id       uuid NOT NULL,
    summary        jsonb NOT NULL DEFAULT '{}'::jsonb,
    evaluated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, revision, grille_version)
);
