"""``python -m explorer``."""

import sys

from .cli import main

sys.exit(main())
