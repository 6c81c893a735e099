"""`python -m bench` (what `make bench` runs): the national campaign, see bench/bench.py."""

from __future__ import annotations

import sys

from bench.bench import main

if __name__ == "__main__":
    sys.exit(main())
