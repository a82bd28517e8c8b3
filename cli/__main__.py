"""`python -m cli`: the same as the `intake` command."""

import sys

from cli import main

sys.exit(main())
