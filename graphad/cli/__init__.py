"""The ``graphad`` command line, thin over the library (see ``graphad --help``).

Verbs: ``demo``, ``build``, ``fit``, ``score``, ``rca``, ``plot``, ``bench``. Each is a
module here with ``register(subparsers)`` and ``run(args) -> int``; :func:`main` parses,
dispatches, and turns bad input into one line on stderr with exit code 2.
"""

from graphad.cli.main import main

__all__ = ["main"]
