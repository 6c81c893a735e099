"""`python -m palmares_mentions`: run the mentions worker (health, readiness and metrics over HTTP)."""

from __future__ import annotations

from palmares_eventkit.runtime import bootstrap, run_worker
from palmares_eventkit.settings import ServiceSettings

from palmares_mentions.app import SERVICE, create_app


def main() -> None:
    settings = ServiceSettings()
    bootstrap(SERVICE, settings)
    run_worker(create_app(settings), settings)


if __name__ == "__main__":
    main()
