"""Development tools of the repository (not installed, not shipped in any image): run from its root."""
