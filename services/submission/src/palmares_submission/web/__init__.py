"""The espaces collectivité and jury: server-rendered French pages of the submission service.

Layers: `display` is pure; `mailer` is SMTP; `sign_in`, `collectivite`,
`jury` are the routes (thin: the accounts' rules are in
`palmares_submission.domain.accounts`, their commands and queries in
`palmares_submission.service.accounts`); `context` builds what every page needs.
"""
