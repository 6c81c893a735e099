"""What one letter costs notify to render, alone (no database, no SMTP): receipts and awards.

    .venv/bin/python -m bench.letters [--rounds 500]   (from the repository root)

Renders the sample letters of `tools.french.samples` (the ones the French
checks and the screenshots read: a village's receipt, a ville's award with its
mentions and entry sign…) `--rounds` times each, every award with a new
notification id as notify's award pass makes them, and prints the mean time
and the size of each. The full benchmark (`make bench`) measures the letters
inside the stack; this isolates their rendering (Jinja2, the French of the
letter, the MIME bytes of `palmares_notify.mime`).
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from tools.french import samples


def _time(render: Any, rounds: int) -> float:
    render()  # templates compiled, entry sign drawn: the steady state a campaign sees
    start = time.perf_counter()
    for _ in range(rounds):
        render()
    return (time.perf_counter() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    rounds = parser.parse_args().rounds
    letters: dict[str, Any] = {
        "receipt, a village": lambda: samples.receipt(samples.FREHEL, 1),
        "receipt, a ville's revision": lambda: samples.receipt(samples.LE_MANS, 2),
        "award, a ville with its mentions": lambda: samples.award(samples.LE_MANS, notification=uuid.uuid4()),
        "award, an EPCI": lambda: samples.award(samples.PARTHENAY, notification=uuid.uuid4()),
    }
    print(f"{'letter':<36} {'ms':>7} {'bytes':>7}")
    for name, render in letters.items():
        print(f"{name:<36} {_time(render, rounds):7.3f} {len(render().as_bytes()):7}")


if __name__ == "__main__":
    main()
