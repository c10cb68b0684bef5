"""diplomacy-kg: a linked-data publisher for diplomacy news."""

__version__ = "0.1.0"
