-- Catalogue of labelled actions (échange d'expériences) and the observatoire's
-- dossiers: read models built when an edition's palmarès is published.

-- French full-text search that ignores accents: the `unaccent` dictionary when the
-- server ships it (its extension is shared by every schema of the database, hence
-- the lock: two services migrating at once would both try to create it).
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('extension:unaccent'));
    BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'unaccent unavailable (%): the catalogue searches with accents', SQLERRM;
    END;
END $$;

CREATE TEXT SEARCH CONFIGURATION catalogue_fr (COPY = pg_catalog.french);

DO $$
DECLARE
    dictionary text;
BEGIN
    SELECT quote_ident(n.nspname) || '.unaccent' INTO dictionary
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
    WHERE d.dictname = 'unaccent' LIMIT 1;
    IF dictionary IS NOT NULL THEN
        EXECUTE 'ALTER TEXT SEARCH CONFIGURATION catalogue_fr ALTER MAPPING FOR hword, hword_part, word WITH '
            || dictionary || ', french_stem';
    END IF;
END $$;

-- Actions a collectivité keeps out of the catalogue: their positions in the revision.
ALTER TABLE submission_revisions ADD COLUMN catalogue_withheld int[] NOT NULL DEFAULT '{}';

CREATE TABLE catalogue_actions (
    submission_id     uuid NOT NULL,
    position          int  NOT NULL,
    edition           int  NOT NULL,
    collectivite_code text NOT NULL,
    name              text NOT NULL,
    kind              text NOT NULL,
    category          text NOT NULL,
    departement       text NOT NULL,
    region            text NOT NULL,
    population        int  NOT NULL,
    population_band   text NOT NULL,
    arobases          int  NOT NULL,
    title             text NOT NULL,
    description       text NOT NULL,
    url               text,
    services          text[] NOT NULL,
    enjeux            text[] NOT NULL,
    mentions          text[] NOT NULL,
    -- labels of the codes above, as the edition's grille and mentions named them
    labels            jsonb NOT NULL,
    published         boolean NOT NULL DEFAULT true,
    search            tsvector NOT NULL,
    PRIMARY KEY (submission_id, position)
);
CREATE INDEX catalogue_actions_search ON catalogue_actions USING gin (search);
CREATE INDEX catalogue_actions_edition ON catalogue_actions (edition, arobases);
CREATE INDEX catalogue_actions_services ON catalogue_actions USING gin (services);

-- One row per dossier of a published edition: what the observatoire counts.
-- Its collectivité columns repeat catalogue_actions' on purpose: each table is
-- read alone, never joined to the other; an applied migration never changes.
CREATE TABLE observatoire_dossiers (
    edition           int  NOT NULL,
    collectivite_code text NOT NULL,
    kind              text NOT NULL,
    category          text NOT NULL,
    departement       text NOT NULL,
    region            text NOT NULL,
    population        int  NOT NULL,
    population_band   text NOT NULL,
    arobases          int,
    services          text[] NOT NULL,
    enjeux            text[] NOT NULL,
    PRIMARY KEY (edition, collectivite_code)
);
