"""`python -m srvpulse.cli` is the `srvpulse` command."""

import sys

from srvpulse.cli.main import main

sys.exit(main(sys.argv[1:]))
