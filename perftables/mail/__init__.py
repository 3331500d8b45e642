"""mail: templates and feedback sent (send), returns fetched from a mailbox (fetch)."""
