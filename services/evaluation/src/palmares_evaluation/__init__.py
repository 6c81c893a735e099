"""Dossiers evaluated under the grille: the library scoring and mentions are built on."""
