-- The catalogue builds a publication asked for and that are not done yet. The
-- publication's transaction writes the row; the build's own transaction deletes
-- it (the palmarès's event need not wait for the catalogue); a row left by a
-- stopped process or a failed build is built by the service's background loop.
CREATE TABLE catalogue_builds (
    edition      int PRIMARY KEY REFERENCES editions (edition),
    requested_at timestamptz NOT NULL DEFAULT now()
);
