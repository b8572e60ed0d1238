"""``python -m benchmarks``: run the suite (:mod:`benchmarks.run`)."""

import sys

from .run import main

sys.exit(main())
