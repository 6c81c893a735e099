-- Operators' decisions on a collectivité's category for an edition, with their
-- reason: an audit trail, never updated nor deleted; the latest one applies.
CREATE TABLE category_overrides (
    id                bigserial PRIMARY KEY,
    collectivite_code text NOT NULL REFERENCES collectivites (code),
    edition           int  NOT NULL,
    category          text NOT NULL CHECK (category IN ('village', 'ville', 'territoire')),
    reason            text NOT NULL,
    decided_by        text NOT NULL,
    decided_at        timestamptz NOT NULL
);
CREATE INDEX category_overrides_latest ON category_overrides (collectivite_code, edition, id DESC);
