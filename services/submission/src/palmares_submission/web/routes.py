"""The routers of the espaces, in one place for the composition root."""

from __future__ import annotations

from fastapi import FastAPI

from palmares_submission import accounts_api
from palmares_submission.web import collectivite, dossier_edit, jury, sign_in


def include(app: FastAPI) -> None:
    app.include_router(accounts_api.router)
    app.include_router(sign_in.router)
    app.include_router(collectivite.router)
    app.include_router(dossier_edit.router)
    app.include_router(jury.router)
