"""`make bench`: a national campaign on the real local stack (see docs/benchmark.md)."""
