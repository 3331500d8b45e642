"""cycle: the steps of a round — generate templates and self-evaluations, collect returns (with the cache), the ledger."""
