-- The espaces collectivité and jury (web pages): jury members, sign-in links, browser sessions.

-- Jury members, invited by an operator. They sign in to the espace jury by a
-- link sent to their address, and call the worklist API with their token
-- (`jur_…`, shown once at the invitation; only its SHA-256 is stored).
-- Revocation clears the token and ends their sessions.
CREATE TABLE jury_members (
    member_id  uuid PRIMARY KEY,
    email      text NOT NULL UNIQUE,  -- lower case
    name       text NOT NULL,
    token_hash bytea UNIQUE,
    invited_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Single-use sign-in links (`<selector>.<verifier>`): the selector finds the
-- row, the verifier is compared in constant time with its stored SHA-256.
CREATE TABLE sign_in_links (
    selector      text PRIMARY KEY,
    verifier_hash bytea NOT NULL,
    email         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

-- Browser sessions: the cookie holds a random id, the table its SHA-256 only.
CREATE TABLE web_sessions (
    session_hash bytea PRIMARY KEY,
    email        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_by_email ON web_sessions (email);

-- Sign-in finds a collectivité by its contact address, whatever its case.
CREATE INDEX collectivites_by_contact ON collectivites (lower(contact_email));

-- A jury decision names the revision it examined (a later revision makes it
-- « à revoir ») and, when the jury ruled on them, the mentions it grants
-- (JuryDecided version 2; NULL: the detected mentions stand). Decisions taken
-- before this migration are taken to be on the revision current now.
ALTER TABLE jury_decisions ADD COLUMN revision int;
ALTER TABLE jury_decisions ADD COLUMN mentions jsonb;
UPDATE jury_decisions j SET revision = s.revision FROM submissions s WHERE s.submission_id = j.submission_id;

-- The campaign's calendar: after the grille's `closes_at`, an operator can
-- reopen one collectivité's dossier (until an instant, or until the palmarès).
CREATE TABLE reopened_dossiers (
    edition           int  NOT NULL,
    collectivite_code text NOT NULL REFERENCES collectivites (code),
    reopened_at       timestamptz NOT NULL DEFAULT now(),
    reopened_until    timestamptz,
    PRIMARY KEY (edition, collectivite_code)
);
