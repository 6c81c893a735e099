"""The signed dossier links of the emails, checked (notify signs them; the format is `palmares_contracts.links`)."""

from __future__ import annotations

from uuid import UUID

from itsdangerous import BadSignature, URLSafeTimedSerializer
from palmares_contracts.links import DOSSIER_LINK_MAX_AGE, DOSSIER_LINK_SALT

MAX_TOKEN_LENGTH = 200


class DossierLinks:
    """Checks that a link's token was signed with the shared key, for this dossier, within its lifetime."""

    def __init__(self, signing_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(signing_key, salt=DOSSIER_LINK_SALT)

    def sign(self, submission_id: UUID) -> str:
        """A token for `submission_id` (notify signs the emails' own; this one serves the operators' tools)."""
        return self._serializer.dumps(str(submission_id))

    def opens(self, token: str, submission_id: UUID) -> bool:
        """Whether `token` opens this dossier: good signature, same dossier, not older than its lifetime."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return False
        try:
            signed = self._serializer.loads(token, max_age=int(DOSSIER_LINK_MAX_AGE.total_seconds()))
        except BadSignature:  # also SignatureExpired, a subclass
            return False
        return bool(signed == str(submission_id))
