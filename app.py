"""Chalice app: the management REST API and the dashboard API (REST API v1 events).

Routes live in chalicelib/ as one blueprint per area; this module only assembles them.
The ping endpoints are a separate, smaller function (functions/ping).
"""

from chalice import Chalice

from chalicelib import api_accounts, api_channels, api_checks, api_maintenance

app = Chalice(app_name="srvpulse")
app.register_blueprint(api_accounts.bp)
app.register_blueprint(api_checks.bp)
app.register_blueprint(api_channels.bp)
app.register_blueprint(api_maintenance.bp)
