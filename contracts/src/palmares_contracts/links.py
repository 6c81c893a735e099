"""The dossier links of the emails: an interface between notify, which writes them, and submission, which opens them.

A link is `{public URL}/espace/dossiers/{submission_id}?token={signed}`,
where `signed` is the submission id signed with `itsdangerous`'s
`URLSafeTimedSerializer` under the key both services share
(`PALMARES_SIGNING_KEY`) and the salt below. It opens that one dossier's
page, read-only, for `DOSSIER_LINK_MAX_AGE` after it was signed; it is never
an API token and opens nothing else. (Constants only: the contracts depend on
pydantic alone, each service signs or checks with its own itsdangerous.)
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

DOSSIER_LINK_SALT = "palmares.dossier-link.v1"
DOSSIER_LINK_MAX_AGE = timedelta(days=90)
DOSSIER_PAGE_PATH = "/espace/dossiers/{submission_id}"


def dossier_page_path(submission_id: UUID | str) -> str:
    return DOSSIER_PAGE_PATH.format(submission_id=submission_id)
