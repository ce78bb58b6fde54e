"""Chalice app: the management REST API and the dashboard API (REST API v1 events).

Routes live in chalicelib/ as one blueprint per area; this module only assembles them.
The Healthchecks-compatible blueprints are mounted under /api/v1, /api/v2 and /api/v3
(Healthchecks serves one set of routes under its three versions). The ping endpoints
are a separate, smaller function (functions/ping).
"""

from chalice.app import Chalice

from chalicelib import (
    api_accounts,
    api_anomalies,
    api_channels,
    api_checks,
    api_compat,
    api_maintenance,
    api_schedules,
    api_summary,
    openapi,
)
from chalicelib.http import chalice_errors_as_ours, cors_for_api_keys

# Chalice configures a logger named after the app (and stops its propagation): a name
# other than the "srvpulse" package keeps the core's logs flowing to the root logger.
app = Chalice(app_name="srvpulse-api")
app.register_middleware(chalice_errors_as_ours, "http")
app.register_middleware(cors_for_api_keys, "http")
app.register_blueprint(api_accounts.bp)
for prefix in api_checks.MOUNTS:
    name = prefix.strip("/").replace("/", "_")
    app.register_blueprint(api_checks.bp, name_prefix=name, url_prefix=prefix)
    app.register_blueprint(api_channels.hc_bp, name_prefix=name, url_prefix=prefix)
    app.register_blueprint(api_compat.compat_bp, name_prefix=name, url_prefix=prefix)
app.register_blueprint(api_compat.public_bp)
app.register_blueprint(api_checks.v3_bp)
app.register_blueprint(api_channels.bp)
app.register_blueprint(api_maintenance.bp)
app.register_blueprint(api_anomalies.bp)
app.register_blueprint(api_schedules.bp)
app.register_blueprint(api_summary.bp)
app.register_blueprint(openapi.bp)
