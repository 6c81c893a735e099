-- Re-evaluations of an edition under a new grille version, done in chunks of
-- dossiers (in submission_id order), each committed with its outbox rows:
-- `after` is the last dossier done, so a restarted service resumes there.
CREATE TABLE reevaluations (
    edition       int NOT NULL,
    version       int NOT NULL,
    after         uuid,
    done          boolean NOT NULL DEFAULT false,
    trace_context jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (edition, version)
);
CREATE INDEX reevaluations_pending ON reevaluations (edition, version) WHERE NOT done;

-- A chunk reads the next dossiers of an edition in submission_id order: an index in
-- that order spares a sort of the whole edition for each chunk.
DROP INDEX dossiers_by_edition;
CREATE INDEX dossiers_by_edition_and_id ON dossiers (edition, submission_id);
