"""Single-image rules: detections -> violations, each with its level and a reason.

Rules read only validated configuration (`RuleConfig`); thresholds never live in code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from siteguard.contract.hazards import CATALOGUE, HazardLevel, HazardType
from siteguard.pipeline.detections import Detections, box_ioa, box_iou
from siteguard.pipeline.taxonomy import default_taxonomy


class NoHelmetRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    level: HazardLevel = CATALOGUE[HazardType.NO_HELMET].default_level
    min_score: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Bare-head score needed; default: the model's operating threshold",
    )
    person_ioa: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Share of the head box that must lie in a person's upper part "
        "for the head to be associated with that person",
    )
    person_upper: float = Field(
        0.5, gt=0, le=1, description="Upper fraction of a person box where its head can be"
    )
    hardhat_iou: float = Field(
        0.6,
        ge=0,
        le=1,
        description="A hardhat box overlapping a bare-head box this much, with a "
        "higher score, wins: no violation",
    )


class RuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    no_helmet: NoHelmetRule = Field(default_factory=NoHelmetRule)


@dataclass(frozen=True)
class Violation:
    type: str
    level: HazardLevel
    box: tuple[float, float, float, float]
    score: float
    reason: str
    person_box: tuple[float, float, float, float] | None = None
    detection_index: int = -1  # row in the frame's Detections

    def to_record(self) -> dict[str, object]:
        return {
            "type": self.type,
            "level": self.level.value,
            "box": [round(v, 1) for v in self.box],
            "score": round(self.score, 4),
            "reason": self.reason,
        }


def evaluate(dets: Detections, config: RuleConfig | None = None) -> list[Violation]:
    cfg = config or RuleConfig()
    out: list[Violation] = []
    if cfg.no_helmet.enabled:
        out.extend(no_helmet(dets, cfg.no_helmet))
    return out


def no_helmet(dets: Detections, rule: NoHelmetRule) -> list[Violation]:
    """Every bare head (above ``min_score``) is a no-helmet violation, tied to its person."""
    tax = default_taxonomy()
    head_rows = np.flatnonzero(dets.class_id == tax.id_of("head"))
    if rule.min_score is not None:
        head_rows = head_rows[dets.confidence[head_rows] >= rule.min_score]
    if not len(head_rows):
        return []
    heads = dets.xyxy[head_rows]
    head_scores = dets.confidence[head_rows]

    hat_rows = np.flatnonzero(dets.class_id == tax.id_of("hardhat"))
    if len(hat_rows):
        iou = box_iou(heads, dets.xyxy[hat_rows])
        beaten = (iou >= rule.hardhat_iou) & (
            dets.confidence[hat_rows][None, :] > head_scores[:, None]
        )
        keep = ~beaten.any(axis=1)
        head_rows, heads, head_scores = head_rows[keep], heads[keep], head_scores[keep]

    person_rows = np.flatnonzero(dets.class_id == tax.id_of("person"))
    owner = np.full(len(head_rows), -1, np.int64)
    if len(person_rows) and len(head_rows):
        upper = dets.xyxy[person_rows].copy()
        upper[:, 3] = upper[:, 1] + (upper[:, 3] - upper[:, 1]) * rule.person_upper
        ioa = box_ioa(heads, upper)
        best = ioa.argmax(axis=1)
        ok = ioa[np.arange(len(head_rows)), best] >= rule.person_ioa
        owner[ok] = person_rows[best[ok]]

    violations = []
    for row, box, score, person in zip(head_rows, heads, head_scores, owner, strict=True):
        pbox = tuple(float(v) for v in dets.xyxy[person]) if person >= 0 else None
        who = "a worker" if pbox else "a head with no person box"
        violations.append(
            Violation(
                type="no_helmet",
                level=rule.level,
                box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                score=float(score),
                reason=f"bare head (score {score:.2f}) on {who}: no safety helmet worn "
                "(未佩戴安全帽, GB 2811-2019 / JGJ 59-2011)",
                person_box=pbox,  # type: ignore[arg-type]
                detection_index=int(row),
            )
        )
    return violations
