"""`python -m palmares_notify`: run the notify worker (health, readiness and metrics over HTTP).

`python -m palmares_notify rebuild [--drop-existing]`: rebuild its lost database from the topics
(notify stopped; docs/operations.md, "Disasters").
"""

from __future__ import annotations

import sys

from palmares_eventkit.runtime import bootstrap, run_worker

from palmares_notify.app import SERVICE, create_app
from palmares_notify.settings import NotifySettings


def main() -> None:
    if sys.argv[1:2] == ["rebuild"]:
        from palmares_notify import rebuild

        raise SystemExit(rebuild.main(sys.argv[2:]))
    settings = NotifySettings()
    bootstrap(SERVICE, settings)
    run_worker(create_app(settings), settings)


if __name__ == "__main__":
    main()
