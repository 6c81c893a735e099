"""`python -m palmares_submission`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import uvicorn
from palmares_eventkit.runtime import bootstrap

from palmares_submission.app import SERVICE, create_app
from palmares_submission.settings import SubmissionSettings


def main() -> None:
    settings = SubmissionSettings()
    bootstrap(SERVICE, settings)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port or 8000,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )


if __name__ == "__main__":
    main()
