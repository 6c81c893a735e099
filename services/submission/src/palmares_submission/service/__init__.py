"""The submission service's service layer: commands that read and change its tables in a transaction.

Each command takes the runtime's transaction (`Tx`), applies the rules of
`palmares_submission.domain`, writes through `palmares_submission.store`, and
returns what it did with the events to publish; `commands.run` publishes them
through the outbox in the same transaction. The HTTP routes and the espaces'
pages only translate a request into a command and its outcome into a response.
"""
