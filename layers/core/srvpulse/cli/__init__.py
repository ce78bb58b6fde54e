"""The `srvpulse` command. Each subcommand is one module of this package with a
`main(argv: list[str]) -> int`; only the chosen one is imported, so `srvpulse run` and
`srvpulse ping` (installed next to cron on the machines that run jobs) load nothing but
the standard library."""
