"""Allow ``python -m normsim``."""

import sys

from normsim.cli import main

sys.exit(main())
