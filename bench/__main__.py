"""``python -m bench`` is the ``crossdock`` command."""

import sys

from bench.cli import main

sys.exit(main())
