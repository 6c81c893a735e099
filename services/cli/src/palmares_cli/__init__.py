"""Palmarès operator command line (`palmares`)."""
