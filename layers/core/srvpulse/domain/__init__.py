"""Pure domain: no I/O, no clock, no environment. Time is always a parameter."""
