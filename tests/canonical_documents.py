"""A seeded generator of credentials for the differential test of canonicalization (Oxigraph's
N-Quads against pyld's, tests/test_canonical_nquads.py).

Documents look like what microcred and other issuers make (OB 3.0 on VC 2.0 or 1.1) and reach
into what JSON-LD allows around them: text from every corner of Unicode (control characters,
surrogate neighbours, combining marks, non-characters, the odd lone surrogate), numbers of every
shape (big integers, -0.0, exponents, NaN, numbers typed as xsd:double or xsd:integer), dates,
language-tagged and directional text, language maps, @json, lists, nested blank nodes, explicit
blank node labels, index and graph containers, repeated and merged nodes, duplicates, IRIs that
pyld drops or refuses, undefined terms. Achievements come from a small pool so that memo copies
(and the quads remembered with them) are reused across documents, as for real badge classes.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/"
EXTENSION = {
    "ex": "https://example.org/ns#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "exAny": "ex:any", "exRef": {"@id": "ex:ref", "@type": "@id"},
    "exLangs": {"@id": "ex:langs", "@container": "@language"},
    "exJson": {"@id": "ex:json", "@type": "@json"},
    "exList": {"@id": "ex:list", "@container": "@list"},
    "exDouble": {"@id": "ex:double", "@type": "xsd:double"},
    "exInteger": {"@id": "ex:integer", "@type": "xsd:integer"},
    "exString": {"@id": "ex:string", "@type": "xsd:string"},
    "exIndexed": {"@id": "ex:indexed", "@container": "@index"},
    "exGraph": {"@id": "ex:graph", "@container": "@graph"},
}
CONTEXTS = [
    [VC_V2, OB + "context-3.0.3.json"],
    [VC_V2, OB + "context-3.0.3.json", EXTENSION],
    [VC_V2, OB + "context-3.0.2.json", EXTENSION],
    [VC_V1, OB + "context-3.0.1.json", "https://w3id.org/security/data-integrity/v1"],
]
WORDS = ["Teamwork", "Läsning", "Números", "数学", "Ωmega", "naïve", "e\u0301", "مرحبا", "שלום", "😀🎓",
         "a\"quote", "back\\slash", "tab\there", "line\nbreak", "cr\rhere", "\u2028sep", "\ufeffbom",
         "\ud7ff\ue000\ufffd", "𝔘𝔫𝔦", "x" * 40, "", " "]
ODD_TEXT = ["ctl\x01", "bell\x07", "back\x08space", "form\x0cfeed", "esc\x1b", "del\x7f", "nul\x00",
            "nonchar\ufffe", "nonchar\uffff", "lone\ud800", "unit\x1f"]
NUMBERS = [0, 1, -1, 7, 2 ** 31, 2 ** 53 + 1, 10 ** 20, 10 ** 21, 10 ** 25, -(10 ** 30), 0.0, -0.0, 1.0, 1.5,
           0.1 + 0.2, 1e21, 1e20, 1e-7, 2.5e-7, 123456.789, 5e-324, 1.7976931348623157e308, 6.0, 0.5]
ODD_NUMBERS = [float("nan"), float("inf"), 10 ** 400]
DATES = ["2026-09-01T12:00:00Z", "2026-09-01T12:00:00.123Z", "2026-09-01T14:00:00+02:00", "2026-02-30T00:00:00Z",
         "not a date", "2026-09-01"]
PRINTABLE = string.printable.replace("\x0b", "").replace("\x0c", "")  # the others are in ODD_TEXT
LANGUAGES = ["en", "EN-us", "fr-CA", "zh-Hant-TW", "de-DE-1996", "en_US", "x"]


class Generator:
    """Documents from one seed: generator.document(i) is a pure function of (seed, i)."""

    def __init__(self, seed: int, achievements: list[dict[str, Any]]) -> None:
        self.seed = seed
        self.achievements = achievements

    def document(self, i: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{i}")
        contexts = copy.deepcopy(rng.choice(CONTEXTS))
        vc_v1 = contexts[0] == VC_V1
        extended = EXTENSION in contexts
        issuer = {"id": self.iri(rng), "type": ["Profile"], "name": self.text(rng)}
        achievement = copy.deepcopy(rng.choice(self.achievements))
        if rng.random() < 0.2:
            achievement["creator"] = copy.deepcopy(issuer)  # merged with the issuer node
        subject: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": achievement}
        if rng.random() < 0.7:
            subject["name"] = self.text(rng)
        if rng.random() < 0.5:
            subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": rng.random() < 0.5,
                                      "identityHash": f"sha256${rng.getrandbits(256):064x}", "salt": f"{rng.getrandbits(64):x}"}]
        if rng.random() < 0.5:
            subject["result"] = self.results(rng, achievement)
        if rng.random() < 0.4:
            subject["creditsEarned"] = self.number(rng)
        doc: dict[str, Any] = {
            "@context": contexts, "id": f"urn:uuid:{rng.getrandbits(128):032x}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": issuer,
            "issuanceDate" if vc_v1 else "validFrom": rng.choice(DATES), "credentialSubject": subject,
        }
        if rng.random() < 0.6:
            doc["name"] = self.name(rng, vc_v1)
        if rng.random() < 0.5:
            doc["evidence"] = [self.evidence(rng) for _ in range(rng.randint(1, 5))]
            if rng.random() < 0.2:
                doc["evidence"].append(copy.deepcopy(doc["evidence"][0]))  # a duplicate
        if rng.random() < 0.3 and not vc_v1:
            doc["credentialStatus"] = self.status(rng)
        if extended and rng.random() < 0.7:
            self.extend(rng, subject, achievement)
        self.damage(rng, doc)
        return doc

    def text(self, rng: random.Random) -> str:
        parts = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.01:
            parts.append(rng.choice(ODD_TEXT))
        if rng.random() < 0.2:
            parts.append("".join(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 12))))
        return " ".join(parts)

    def name(self, rng: random.Random, vc_v1: bool) -> Any:
        if vc_v1 or rng.random() < 0.6:
            return self.text(rng)
        value: dict[str, Any] = {"@value": self.text(rng), "@language": rng.choice(LANGUAGES)}
        if rng.random() < 0.3:
            value["@direction"] = rng.choice(["ltr", "rtl"])
        return value

    def number(self, rng: random.Random) -> Any:
        if rng.random() < 0.02:
            return rng.choice(ODD_NUMBERS)
        if rng.random() < 0.3:
            return rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-12, 24)
        return rng.choice(NUMBERS)

    def iri(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.02:
            return "https://example.org/a b"  # pyld drops it silently
        if roll < 0.03:
            return "relative/issuer"  # safe mode refuses it
        if roll < 0.1:
            return f"https://example.org/é/{rng.randint(0, 99)}?q=ü#frag"
        return rng.choice([f"did:example:{rng.getrandbits(64):x}", f"https://issuer.example/{rng.randint(0, 9)}",
                           f"did:key:z6Mk{rng.getrandbits(128):x}", f"urn:uuid:{rng.getrandbits(128):032x}"])

    def results(self, rng: random.Random, achievement: dict[str, Any]) -> list[dict[str, Any]]:
        base = achievement.get("id", "urn:example:achievement")
        out = [{"type": ["Result"], "resultDescription": f"{base}#criterion-{rng.randint(0, 3)}",
                "achievedLevel": f"{base}#criterion-{rng.randint(0, 3)}-level-{rng.randint(1, 3)}"}
               for _ in range(rng.randint(1, 4))]
        out.append({"type": ["Result"], "resultDescription": f"{base}#result", "value": rng.choice(["Earned", "Pass"])})
        return out

    def evidence(self, rng: random.Random) -> dict[str, Any]:
        item: dict[str, Any] = {"type": ["Evidence"], "name": self.text(rng)}
        if rng.random() < 0.8:
            item["id"] = f"ni:///sha-256;{rng.getrandbits(256):064x}"
        if rng.random() < 0.5:
            item["description"] = self.text(rng)
        if rng.random() < 0.3:
            item["genre"] = rng.choice(["Overview questions", "Artifact", "Reflection"])
        return item

    def status(self, rng: random.Random) -> dict[str, Any]:
        index = rng.randrange(131072)
        url = f"https://badges.example.gov/status/{rng.getrandbits(48):x}"
        return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "message",
                "statusListIndex": str(index), "statusListCredential": url, "statusSize": rng.choice([1, 2, 8]),
                "statusMessage": [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"}]}

    def extend(self, rng: random.Random, subject: dict[str, Any], achievement: dict[str, Any]) -> None:
        """JSON-LD beyond OB 3.0's terms, through the inline extension context."""
        choices = {
            "exAny": lambda: [self.nested(rng, 3) for _ in range(rng.randint(1, 3))],
            "exLangs": lambda: {rng.choice(LANGUAGES): self.text(rng) for _ in range(rng.randint(1, 3))},
            "exJson": lambda: self.json_value(rng, 3),
            "exList": lambda: [self.nested(rng, 1) if rng.random() < 0.3 else self.number(rng) for _ in range(rng.randint(0, 4))],
            "exDouble": lambda: [self.number(rng), str(self.number(rng)), " 7 ", "1_000", "x"][rng.randrange(5)],
            "exInteger": lambda: [self.number(rng), "0042", "7"][rng.randrange(3)],
            "exString": lambda: [self.text(rng), rng.choice(["a", "b"])],
            "exRef": lambda: self.iri(rng),
            "exIndexed": lambda: {"first": copy.deepcopy(achievement), "second": {"name": self.text(rng)}},
            "exGraph": lambda: copy.deepcopy(achievement) if rng.random() < 0.5 else {"name": self.text(rng)},
        }
        for key in rng.sample(sorted(choices), rng.randint(1, 4)):
            subject[key] = choices[key]()
        if rng.random() < 0.2:
            subject["exAny"] = [copy.deepcopy(achievement), {"id": "_:shared", "name": "labelled"}, {"id": "_:shared"}]
        if rng.random() < 0.15:
            subject["exAny"] = [1, True, 1.0, "1", {"@value": "1", "@type": "xsd:integer"}, {"@value": "true", "@type": "xsd:boolean"}]
        if rng.random() < 0.1:
            subject["exString"] = ["same", {"@value": "same", "@type": "xsd:string"}]

    def nested(self, rng: random.Random, depth: int) -> Any:
        if depth <= 0 or rng.random() < 0.3:
            return rng.choice([self.text(rng), self.number(rng), rng.random() < 0.5])
        node: dict[str, Any] = {"exAny": [self.nested(rng, depth - 1) for _ in range(rng.randint(1, 3))]}
        if rng.random() < 0.3:
            node["id"] = rng.choice(["_:b0", "_:b1", self.iri(rng)])
        if rng.random() < 0.3:
            node["exLangs"] = {rng.choice(LANGUAGES): self.text(rng)}
        return node

    def json_value(self, rng: random.Random, depth: int) -> Any:
        if depth <= 0 or rng.random() < 0.3:
            return rng.choice([self.text(rng), self.number(rng), True, False, None])
        if rng.random() < 0.5:
            return [self.json_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
        return {self.text(rng)[:8]: self.json_value(rng, depth - 1) for _ in range(rng.randint(0, 3))}

    def damage(self, rng: random.Random, doc: dict[str, Any]) -> None:
        """Now and then what safe mode refuses or what no RDF can hold."""
        roll = rng.random()
        if roll < 0.02:
            doc["credentialSubject"]["favouriteColour"] = "blue"  # undefined term
        elif roll < 0.03:
            doc["type"].append("UndefinedType")
        elif roll < 0.035:
            doc["credentialSubject"]["achievement"]["id"] = "relative/achievement"


def small_achievements(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Short Achievements (the pool's most common members: fast for the pyld reference)."""
    out = []
    for n in range(count):
        base = f"https://badges.example.gov/achievements/a{n}/v/{rng.randint(1, 3)}"
        achievement: dict[str, Any] = {
            "id": base, "type": ["Achievement"], "name": rng.choice(WORDS) + f" {n}",
            "description": rng.choice(WORDS), "criteria": {"narrative": rng.choice(WORDS)},
        }
        if n % 2:
            achievement["creditsAvailable"] = rng.choice([1, 1.5, 6.0, 0.30000000000000004])
            achievement["alignment"] = [{"type": ["Alignment"], "targetName": rng.choice(WORDS),
                                         "targetUrl": f"https://framework.example/{n}"}]
        if n % 3 == 0:
            achievement["resultDescription"] = [{
                "id": f"{base}#result", "type": ["ResultDescription"], "name": "Result",
                "resultType": "RubricCriterionLevel", "allowedValue": ["Earned", "Not yet"],
                "rubricCriterionLevel": [{"id": f"{base}#level-{k}", "type": ["RubricCriterionLevel"],
                                          "name": f"Level {k}", "points": k} for k in range(1, 3)]}]
        if n % 4 == 0:
            del achievement["id"]  # an unnamed Achievement: its memo copy gets a label of its own
        out.append(achievement)
    return out
