"""report layer (see docs/CONVENTIONS.md)."""
