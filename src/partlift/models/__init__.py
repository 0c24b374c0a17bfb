"""models layer (see docs/CONVENTIONS.md)."""
