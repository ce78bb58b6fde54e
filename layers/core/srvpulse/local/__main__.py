"""``python -m srvpulse.local`` (``make run``): start srvpulse in one process."""

from .runner import main

raise SystemExit(main())
