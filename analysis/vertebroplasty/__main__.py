"""``python -m vertebroplasty``: see :mod:`vertebroplasty.cli`."""

import sys

from vertebroplasty.cli import main

if __name__ == "__main__":
    sys.exit(main())
