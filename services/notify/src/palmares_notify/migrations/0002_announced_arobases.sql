-- The arobases last announced to the collectivité (award or rectificatif):
-- a jury decision after the palmarès sends a rectificatif only if it differs.
ALTER TABLE dossiers ADD COLUMN announced_arobases int;
