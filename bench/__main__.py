"""``python -m bench`` is the ``crossdock`` command."""

from bench.entry import main

main()
