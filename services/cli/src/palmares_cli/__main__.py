"""`python -m palmares_cli`: the same as the `palmares` script."""

from palmares_cli.main import main

main()
