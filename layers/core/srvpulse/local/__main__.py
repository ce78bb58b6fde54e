"""``python -m srvpulse.local`` (``make run``): start srvpulse locally."""

from .runner import main

if __name__ == "__main__":
    raise SystemExit(main())
