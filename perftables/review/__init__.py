"""review: every return reviewed by the rules of its kind — project targets (checks), department tables (dept), self-evaluation scoring (selfeval); dispatch picks by kind."""
