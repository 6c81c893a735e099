"""The submission service's rules, in plain Python: no database, no broker, no HTTP.

`errors` names what a command refuses; `dossier` checks and builds a dossier's
revisions; `campaign` says when an edition's grille, dossiers and palmarès may
change; `accounts` says who may sign in to the espaces, with which secret, for
how long. The service layer (`palmares_submission.service`) reads and writes
the tables around them; the routes translate requests to its commands.
"""
