"""metrics layer (see docs/CONVENTIONS.md)."""
