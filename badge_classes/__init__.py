"""WHAT can be earned: micro-credential definitions (one JSON file each) mapped to OB 3.0 Achievements.

No Flask, no database. The full catalogue, its validation and versioning grow here.
"""

from .catalog import BadgeClass, BadgeClassError, load_catalog, to_achievement

__all__ = ["BadgeClass", "BadgeClassError", "load_catalog", "to_achievement"]
