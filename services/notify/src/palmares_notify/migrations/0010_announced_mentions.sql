-- The codes of the final mentions last announced to the collectivité (award or rectificatif),
-- sorted: a jury decision after the palmarès that only changes the mentions sends a rectificatif.
-- NULL for the awards announced before: they are compared on their arobases alone.
ALTER TABLE dossiers ADD COLUMN announced_mentions jsonb;
