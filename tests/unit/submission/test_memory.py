"""What a whole-edition build freed goes back to the system (`memory.give_back`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Run in a process of its own: the test's RSS must not depend on what pytest allocated before.
_FRAGMENTED = """
from palmares_submission import memory

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

# 120 MB in blocks too large for Python's own allocator, one in fifty kept: freed, the rest
# stays inside malloc's heap (live blocks up to its top), as after a build of the palmarès.
blocks = [bytes(600) + i.to_bytes(4, "big") for i in range(200_000)]
kept = blocks[::50]
del blocks
before = rss_mb()
returned = memory.give_back()
print(before, rss_mb(), returned)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS read from /proc; malloc_trim is glibc's")
def test_the_memory_a_build_freed_goes_back_to_the_system() -> None:
    out = subprocess.run([sys.executable, "-c", _FRAGMENTED], capture_output=True, text=True, check=True).stdout
    before, after, returned = out.split()
    assert returned == "True"
    assert int(before) >= 100, f"the freed blocks were kept by malloc: {before} MB"
    assert int(after) < int(before) / 2, f"RSS {before} MB → {after} MB after give_back()"
