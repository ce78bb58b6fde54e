"""All tables, one module per area, sharing one MetaData.

Importing this package registers every table on ``metadata``.
"""

from .base import metadata
from .channels import channels, check_channels
from .checks import api_keys, checks, flips, orphan_pings, ping_receipts, pings, projects

__all__ = [
    "api_keys",
    "channels",
    "check_channels",
    "checks",
    "flips",
    "metadata",
    "orphan_pings",
    "ping_receipts",
    "pings",
    "projects",
]
