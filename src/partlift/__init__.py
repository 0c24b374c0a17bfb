"""partlift: parts of 3D objects across 2D images and 3D shapes.

Layers (data flows one way): geometry -> metrics -> render -> shapes/datasets -> models ->
methods (partstad, part321) -> experiments -> report -> commands. See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
