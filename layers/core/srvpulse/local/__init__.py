"""The local all-in-one mode: the HTTP edge (pings, the Chalice API through an API Gateway
emulator, the dashboard) served by granian, and the background workers (queue drain ->
ingest handler, analyzer, alerts, and the ones other areas register in
``runner.build_workers``) in a second process it starts and stops."""
