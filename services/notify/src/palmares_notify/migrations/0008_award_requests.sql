-- Awards of an edition are rendered by a background loop, in chunks committed as
-- they go, so that sending starts at once rather than after the whole edition is
-- rendered. Handlers only ask for a pass over the edition: one is due while
-- `awards_requested > awards_scanned`.
ALTER TABLE editions ADD COLUMN awards_requested int NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN awards_scanned int NOT NULL DEFAULT 0;
