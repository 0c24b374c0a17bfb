"""experiments layer: benchmark runners, the demo pipeline, resumable stages and provenance (docs/ARCHITECTURE.md)."""
