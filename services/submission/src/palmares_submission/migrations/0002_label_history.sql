-- Labels received at editions this system did not run (imported by an
-- operator). With the palmarès this system publishes, they make the history
-- from which the distinction « Territoire d'excellence numérique » is computed.
CREATE TABLE label_history (
    collectivite_code text NOT NULL,
    edition           int  NOT NULL,
    arobases          int  NOT NULL CHECK (arobases BETWEEN 1 AND 5),
    imported_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collectivite_code, edition)
);
