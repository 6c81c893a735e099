"""`python -m palmares_notify`: run the notify worker (health, readiness and metrics over HTTP)."""

from __future__ import annotations

from palmares_eventkit.runtime import bootstrap, run_worker

from palmares_notify.app import SERVICE, create_app
from palmares_notify.settings import NotifySettings


def main() -> None:
    settings = NotifySettings()
    bootstrap(SERVICE, settings)
    run_worker(create_app(settings), settings)


if __name__ == "__main__":
    main()
