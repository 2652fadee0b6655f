"""``python -m graphad.cli`` runs the ``graphad`` command."""

import sys

from graphad.cli.main import main

sys.exit(main())
