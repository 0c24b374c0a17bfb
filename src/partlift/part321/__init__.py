"""part321 layer (see docs/CONVENTIONS.md)."""
