"""Use cases. Services take ports as arguments; they never import boto3, SQLAlchemy or an
HTTP client."""
