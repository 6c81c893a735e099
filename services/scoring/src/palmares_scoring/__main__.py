"""`python -m palmares_scoring`: run the scoring worker (health, readiness and metrics over HTTP)."""

from __future__ import annotations

from palmares_scoring.app import EVALUATING

main = EVALUATING.main

if __name__ == "__main__":
    main()
