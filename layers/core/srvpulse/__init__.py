"""srvpulse core: domain, services, ports and adapters.

Import direction: adapters/local/bootstrap -> services -> domain. The domain never does I/O.
"""
