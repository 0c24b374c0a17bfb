"""datasets layer (see docs/CONVENTIONS.md)."""
