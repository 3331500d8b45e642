"""The package's version: one place, read by setup.cfg, the cache key and `perftables --version`."""
__version__ = "0.1.0"
