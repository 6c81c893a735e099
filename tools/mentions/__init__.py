"""Evaluation and benchmark of the mention detector (`palmares_mentions.domain`)."""
