"""The French check: every user-facing French text, rendered on sample data, through LanguageTool.

`samples` renders the letters and the pages on sample data; `texts` turns them,
and the API's error messages found in the code, into plain texts; `check` runs
LanguageTool's French rules on them (`make check-french`, and the test in
`tests/french`), less the reviewed `allowlist.toml`; `screenshots` renders the
letters in Chromium for `docs/emails/`.
"""
