"""partstad layer (see docs/CONVENTIONS.md)."""
