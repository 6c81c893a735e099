-- The intake's first round trip: the dossier's advisory lock, then what a
-- submission needs to know (store.submit_context). A VOLATILE function reads
-- with a fresh snapshot after taking the lock, so it sees what a concurrent
-- request for the same dossier committed, as a separate statement would; the
-- lock costs no round trip of its own. `p_lock` is the caller's key for the
-- dossier's lock, the same one every other command on the dossier takes.
CREATE FUNCTION submit_context(p_edition int, p_code text, p_key text, p_lock text)
RETURNS TABLE (
    code text, kind text, name text, population int, departement text, category text, contact_email text,
    edition int, grille_version int, palmares_published_at timestamptz,
    existing_id uuid, existing_revision int,
    request_hash bytea, replay_id uuid, replay_revision int,
    override_category text, reason text, decided_by text, decided_at timestamptz,
    reopened_at timestamptz, reopened_until timestamptz
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(p_lock));
    RETURN QUERY
    WITH dossier AS (
        SELECT s.submission_id, s.revision FROM submissions s
        WHERE s.edition = p_edition AND s.collectivite_code = p_code FOR UPDATE
    )
    SELECT c.code, c.kind, c.name, c.population, c.departement, c.category, c.contact_email,
           e.edition, e.grille_version, e.palmares_published_at,
           d.submission_id, d.revision,
           i.request_hash, i.submission_id, i.revision,
           o.category, o.reason, o.decided_by, o.decided_at,
           r.reopened_at, r.reopened_until
    FROM collectivites c
    LEFT JOIN editions e ON e.edition = p_edition
    LEFT JOIN dossier d ON true
    LEFT JOIN idempotency_keys i ON i.collectivite_code = c.code AND i.key = p_key
    LEFT JOIN reopened_dossiers r ON r.edition = p_edition AND r.collectivite_code = c.code
    LEFT JOIN LATERAL (
        SELECT co.category, co.reason, co.decided_by, co.decided_at FROM category_overrides co
        WHERE co.collectivite_code = c.code AND co.edition = p_edition ORDER BY co.id DESC LIMIT 1
    ) o ON true
    WHERE c.code = p_code;
END
$$;
