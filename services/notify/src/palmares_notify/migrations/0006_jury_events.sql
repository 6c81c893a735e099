-- Awards of an edition wait until notify has read every jury decision
-- published before the palmarès (`PalmaresPublished.jury_decisions`).
ALTER TABLE editions ADD COLUMN jury_events_expected int NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN jury_events_seen int NOT NULL DEFAULT 0;
