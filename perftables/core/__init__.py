"""core: what every layer uses — cell addresses, values and amounts, files written atomically, worker pools, bundled resources, the version."""
