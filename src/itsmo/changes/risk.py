"""The risk questionnaire and the policy arithmetic of approvals: values in, value out.

A change's risk comes from weighted answers (:data:`QUESTIONS`), then is raised one level
when the CMDB impact analysis finds a high impact (a critical service, several countries
or many business processes affected), as ServiceNow's risk/impact matrix does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    weight: int
    #: (answer key, label, score 0-3)
    answers: tuple[tuple[str, str, int], ...]


QUESTIONS: tuple[Question, ...] = (
    Question(
        "tested",
        _("Has the change been tested in a non-production environment?"),
        3,
        (("yes", _("Yes, fully"), 0), ("partly", _("Partly"), 2), ("no", _("No"), 3)),
    ),
    Question(
        "backout",
        _("Can the change be backed out, and has the back-out been tested?"),
        3,
        (
            ("tested", _("Yes, back-out tested"), 0),
            ("untested", _("Possible but not tested"), 2),
            ("no", _("No back-out possible"), 3),
        ),
    ),
    Question(
        "outage",
        _("Does the implementation need a service outage?"),
        2,
        (("none", _("No outage"), 0), ("short", _("Under an hour"), 2), ("long", _("Longer"), 3)),
    ),
    Question(
        "experience",
        _("Has the team implemented this kind of change before?"),
        2,
        (("often", _("Often"), 0), ("once", _("Once or twice"), 1), ("never", _("Never"), 3)),
    ),
    Question(
        "complexity",
        _("How many teams or vendors take part in the implementation?"),
        1,
        (("one", _("One team"), 0), ("few", _("Two or three"), 2), ("many", _("More"), 3)),
    ),
)

MAX_SCORE = sum(q.weight * 3 for q in QUESTIONS)
#: Percent of the maximum score from which the risk is moderate, resp. high.
MODERATE_FROM = 25
HIGH_FROM = 55

LEVELS = ("low", "moderate", "high")


class InvalidAnswers(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def score(answers: Mapping[str, str]) -> int:
    """The weighted score of a complete set of answers (0 - :data:`MAX_SCORE`)."""
    total = 0
    for question in QUESTIONS:
        answer = answers.get(question.key)
        if answer is None:
            raise InvalidAnswers(f"question {question.key!r} is not answered", question.key)
        scores = {key: value for key, _label, value in question.answers}
        if answer not in scores:
            raise InvalidAnswers(f"{question.key} must be one of {', '.join(scores)}", question.key)
        total += question.weight * scores[answer]
    unknown = sorted(set(answers) - {q.key for q in QUESTIONS})
    if unknown:
        raise InvalidAnswers(f"unknown question {unknown[0]!r}", unknown[0])
    return total


def level_for_score(value: int) -> str:
    percent = 100 * value / MAX_SCORE
    if percent >= HIGH_FROM:
        return "high"
    if percent >= MODERATE_FROM:
        return "moderate"
    return "low"


def impact_level(*, critical_services: int, services: int, countries: int, processes: int) -> int:
    """1 high, 2 medium, 3 low from what the impact analysis found."""
    if critical_services or countries >= 3 or processes >= 3:
        return 1
    if services or countries >= 2 or processes:
        return 2
    return 3


def combined_risk(questionnaire_level: str, impact: int | None) -> str:
    """The questionnaire's level, one level higher when the impact is high (1)."""
    index = LEVELS.index(questionnaire_level)
    if impact == 1:
        index = min(index + 1, len(LEVELS) - 1)
    return LEVELS[index]


def policy_outcome(policy: str, decisions: Iterable[str]) -> str:
    """``approved``, ``rejected`` or ``requested`` (still open) for the approvers' decisions.

    ``all``: every approver approves, one rejection rejects. ``any``: the first decision
    decides, approval or rejection (ServiceNow's "anyone to approve or reject").
    ``majority``: more than half approve; rejected as soon as a majority can no longer be reached.
    """
    decisions = list(decisions)
    total = len(decisions)
    approved = decisions.count("approved")
    rejected = decisions.count("rejected")
    if total == 0:
        return "approved"
    if policy == "all":
        if rejected:
            return "rejected"
        return "approved" if approved == total else "requested"
    if policy == "any":
        if approved:
            return "approved"
        return "rejected" if rejected else "requested"
    if policy == "majority":
        if approved * 2 > total:
            return "approved"
        if (total - rejected) * 2 <= total:
            return "rejected"
        return "requested"
    raise ValueError(f"unknown policy {policy!r}")
