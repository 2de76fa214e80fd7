"""``python -m edge`` runs the ``gaitedge`` command line."""

import sys

from .cli import main

sys.exit(main())
