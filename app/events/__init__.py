"""Domain events: written to the outbox in the same transaction as the change they describe."""
