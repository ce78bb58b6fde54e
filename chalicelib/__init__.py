"""HTTP route modules (Chalice blueprints) for app.py: thin handlers over the services."""
