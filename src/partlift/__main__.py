"""``python -m partlift``: the same command as ``partlift``."""

from partlift.cli import main

if __name__ == "__main__":
    main()
