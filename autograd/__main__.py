"""``python -m autograd``: runs the ``chainrule`` command (see ``autograd.cli.main``)."""

import sys

from .cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
