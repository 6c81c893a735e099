"""`python -m palmares_mentions`: run the mentions worker (health, readiness and metrics over HTTP)."""

from __future__ import annotations

from palmares_mentions.app import EVALUATING

main = EVALUATING.main

if __name__ == "__main__":
    main()
