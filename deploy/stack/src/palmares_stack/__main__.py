"""``python -m palmares_stack``: see :mod:`palmares_stack.cli`."""

import sys

from .cli import main

sys.exit(main())
