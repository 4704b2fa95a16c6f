"""WHAT can be earned: micro-credential definitions, validated, mapped to OB 3.0 Achievements.

No Flask, no database (marshmallow validates the files). Version numbers are assigned when the
catalogue is synced into the issuer's database; this package computes the content hash.
"""

from .achievement import achievement_id, criteria_narrative, image_url, to_achievement
from .catalog import Catalog, canonical_definition, check_image, content_hash, load_catalog, load_definition
from .errors import BadgeClassError, CatalogInvalid, DefinitionInvalid
from .model import PATHWAYS, Alignment, BadgeClass, Criterion, Part
from .pdp import PdpPolicy, PdpRule, PdpValue
from .schema import parse_definition

__all__ = [
    "PATHWAYS", "Alignment", "BadgeClass", "BadgeClassError", "Catalog", "CatalogInvalid", "Criterion",
    "DefinitionInvalid", "Part", "PdpPolicy", "PdpRule", "PdpValue", "achievement_id", "canonical_definition",
    "check_image", "content_hash", "criteria_narrative", "image_url", "load_catalog", "load_definition",
    "parse_definition", "to_achievement",
]
