"""Exception types shared by every layer.

Every error raised on bad user input is a subclass of :class:`PartliftError` so a CLI can
print it as one clean line, and also a subclass of the matching builtin (``ValueError``,
``FileNotFoundError``) so ordinary ``except`` clauses keep working.
"""


class PartliftError(Exception):
    """Base class of all partlift errors caused by bad input."""


class InvalidGeometryError(PartliftError, ValueError):
    """A mesh or point cloud violates an invariant (NaN coordinates, bad indices, ...)."""


class ConfigError(PartliftError, ValueError):
    """A config field or option has a value of the wrong type, outside its range, or unknown."""


class LabelMismatchError(PartliftError, ValueError):
    """A label array or label sidecar does not match the geometry it belongs to."""


class ReadError(PartliftError, OSError):
    """A file is missing, unreadable or not in the expected format."""


class OutputError(PartliftError, OSError):
    """An output path cannot be used: it is an input, a file, not writable, or a folder partlift did
    not write (see :mod:`partlift.outputs`)."""
