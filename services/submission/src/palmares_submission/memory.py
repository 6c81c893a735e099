"""Give the memory a whole-edition build freed back to the system.

A build of the public palmarès (page, JSON, files) or of an edition's catalogue
allocates tens of megabytes and frees them when done. glibc's malloc keeps
much of what was freed inside its heap and arenas for the process's next
allocations, so the service's RSS stays near the high-water mark of its builds
and the next build starts from there: measured on the full benchmark, the RSS
stayed 26 MB up after the palmarès page until a later build happened to free the
top of the heap, and the XLSX file's build, starting from that, took the service
past 250 MB. `malloc_trim(0)` returns the free pages of every arena at once
(a few milliseconds after a build of seconds).

It is one call into the C library, which no maintained Python package wraps,
hence `ctypes`. Elsewhere than glibc (musl has no `malloc_trim`) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Return the free memory of malloc's heap and arenas to the system; True if some was returned."""
    return _TRIM is not None and bool(_TRIM(0))
