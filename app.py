"""Chalice app: the management REST API and the dashboard API (REST API v1 events).

Routes live in chalicelib/ as one blueprint per area; this module only assembles them.
The ping endpoints are a separate, smaller function (functions/ping).
"""

from chalice.app import Chalice

from chalicelib import api_accounts, api_channels, api_checks, api_maintenance, openapi
from chalicelib.http import chalice_errors_as_ours

# Chalice configures a logger named after the app (and stops its propagation): a name
# other than the "srvpulse" package keeps the core's logs flowing to the root logger.
app = Chalice(app_name="srvpulse-api")
app.register_middleware(chalice_errors_as_ours, "http")
app.register_blueprint(api_accounts.bp)
app.register_blueprint(api_checks.bp)
app.register_blueprint(api_channels.bp)
app.register_blueprint(api_maintenance.bp)
app.register_blueprint(openapi.bp)
