"""``python -m edge`` runs the ``gaitedge`` command line."""

import sys

from edge.cli import main

sys.exit(main())
