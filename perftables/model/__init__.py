"""model: the meaning shared by every phase — the roster, the scoring rules, the catalogue of review rules."""
