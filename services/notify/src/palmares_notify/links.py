"""The dossier link of every email, signed so that it opens the dossier's page with no other step (pure).

The format is the interface `palmares_contracts.links` (submission opens what
notify signs, with the key both are configured with). Without a key, the
link still leads to the page, which then asks the reader to sign in.
"""

from __future__ import annotations

from uuid import UUID

from itsdangerous import URLSafeTimedSerializer
from palmares_contracts.links import DOSSIER_LINK_SALT


def signed_link(page: str, submission_id: UUID | str, signing_key: str | None) -> str:
    """`page` with `token=…` added: read-only, that dossier only, valid `DOSSIER_LINK_MAX_AGE` from now."""
    if not signing_key:
        return page
    token = URLSafeTimedSerializer(signing_key, salt=DOSSIER_LINK_SALT).dumps(str(submission_id))
    return f"{page}{'&' if '?' in page else '?'}token={token}"
