-- Awards of an edition are rendered by a background loop, in chunks committed as
-- they go, so that sending starts at once (`make bench`: in one handler transaction,
-- the first of 36,218 awards left 191 s after the palmarès). Handlers only ask for a
-- pass over the edition: one is due while `awards_requested > awards_scanned`.
ALTER TABLE editions ADD COLUMN awards_requested int NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN awards_scanned int NOT NULL DEFAULT 0;
