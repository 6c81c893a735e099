"""A Jepsen-style checker of the reliability campaigns: a recorded history of what clients were told,
compared with the final state seen from outside (`python -m tools.checker --help`, docs/reliability.md)."""
