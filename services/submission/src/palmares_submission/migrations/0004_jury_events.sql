-- Jury decisions published per edition: the palmarès tells notify how many it
-- must have read before writing the award emails (jury.v1 and palmares.v1 are
-- different topics, read independently).
ALTER TABLE editions ADD COLUMN jury_events int NOT NULL DEFAULT 0;
