"""Orders: placement, listings and confirmations."""
