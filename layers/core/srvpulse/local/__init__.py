"""The local all-in-one mode: one process serving the ping function and the Chalice API
through an API Gateway emulator (waitress), plus background workers (queue drain ->
ingest handler, and the ones other areas register in ``runner.build_workers``)."""
