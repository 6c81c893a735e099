"""The espaces collectivité and jury: server-rendered French pages of the submission service.

Layers: `accounts` and `display` are pure; `account_store` is SQL; `mailer`
is SMTP; `sign_in`, `collectivite`, `jury` are the routes (thin); `context`
builds what every page needs.
"""
