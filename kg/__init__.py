"""diplomacy-kg: a linked-data publisher for diplomacy news."""
