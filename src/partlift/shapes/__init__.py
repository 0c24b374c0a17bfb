"""shapes layer (see docs/CONVENTIONS.md)."""
