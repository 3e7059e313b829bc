"""The hazard catalogue: every hazard type the system reports, once.

Names (Chinese, English), the default level and the standards a notice cites all come from
here; the edge's rules, the API's notices, the console and the bulletin read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HazardLevel(StrEnum):
    GENERAL = "general"  # 一般隐患
    MAJOR = "major"  # 重大隐患

    @property
    def zh(self) -> str:
        return {"general": "一般", "major": "重大"}[self.value]


class HazardType(StrEnum):
    NO_HELMET = "no_helmet"  # 未佩戴安全帽
    EDGE_UNPROTECTED = "edge_unprotected"  # 临边、洞口防护缺失 (person at an unprotected edge)
    SCAFFOLD_UNSAFE = "scaffold_unsafe"  # 脚手架不规范
    PROTECTION_MISSING = "protection_missing"  # commissioned guardrail/net no longer there


@dataclass(frozen=True)
class HazardKind:
    type: HazardType
    name_zh: str
    name_en: str
    default_level: HazardLevel
    standards: tuple[str, ...]


CATALOGUE: dict[HazardType, HazardKind] = {
    k.type: k
    for k in (
        HazardKind(
            HazardType.NO_HELMET,
            "未佩戴安全帽",
            "no hard hat",
            HazardLevel.GENERAL,
            ("GB 2811-2019", "JGJ 59-2011"),
        ),
        HazardKind(
            HazardType.EDGE_UNPROTECTED,
            "临边、洞口防护缺失",
            "unprotected edge or opening",
            HazardLevel.MAJOR,
            ("JGJ 80-2016", "JGJ 59-2011"),
        ),
        HazardKind(
            HazardType.SCAFFOLD_UNSAFE,
            "脚手架不规范",
            "unsafe scaffold",
            HazardLevel.GENERAL,
            ("JGJ 130-2011", "JGJ 59-2011"),
        ),
        HazardKind(
            HazardType.PROTECTION_MISSING,
            "防护设施缺失",
            "protection missing",
            HazardLevel.MAJOR,
            ("JGJ 80-2016", "JGJ 59-2011"),
        ),
    )
}

# hazard type -> Chinese name (the bulletin's and the console's labels)
HAZARD_NAMES_ZH: dict[str, str] = {t.value: k.name_zh for t, k in CATALOGUE.items()}
LEVEL_ZH = {"general": "一般隐患", "major": "重大隐患"}


def hazard_name(hazard_type: str, lang: str = "zh") -> str:
    """A person's name for a hazard type; an unknown type is shown as it came."""
    try:
        kind = CATALOGUE[HazardType(hazard_type)]
    except ValueError:
        return hazard_type
    return kind.name_zh if lang == "zh" else kind.name_en
