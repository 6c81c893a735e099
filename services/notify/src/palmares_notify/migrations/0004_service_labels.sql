-- French labels of the services of the edition's latest grille: emails name
-- services in words, never by their codes.
ALTER TABLE editions ADD COLUMN service_labels jsonb NOT NULL DEFAULT '{}'::jsonb;
