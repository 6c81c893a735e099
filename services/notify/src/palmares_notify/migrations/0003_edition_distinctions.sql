-- Distinctions announced with the palmarès (e.g. « Territoire d'excellence numérique »).
ALTER TABLE editions ADD COLUMN distinctions jsonb NOT NULL DEFAULT '[]'::jsonb;
