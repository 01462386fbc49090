"""``python -m bench``: the catchment benchmark suite (see bench/README.md)."""

import sys

from bench.suite import main

sys.exit(main())
