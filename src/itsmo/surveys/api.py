"""``POST /api/v1/surveys/{token}``: answer a satisfaction survey. The token is the
credential, so the endpoint needs no other authentication."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from . import services

router = Router(tags=["surveys"])


class SurveyAnswerIn(Schema):
    rating: int
    comment: str = ""


class SurveyAnswerOut(Schema):
    incident: str
    rating: int
    comment: str
    answered_at: datetime


@router.post(
    "/surveys/{token}",
    auth=None,
    response={200: SurveyAnswerOut},
    summary="Answer a satisfaction survey",
    description=(
        "The single-use token from the survey link is the credential. "
        "404: unknown token; 409: already answered; 422: rating not 1-5 (`field`: `rating`)."
    ),
)
def answer_survey(request, token: str, payload: SurveyAnswerIn):
    survey = services.answer(token, payload.rating, payload.comment)
    return {
        "incident": survey.incident.number,
        "rating": survey.rating,
        "comment": survey.comment,
        "answered_at": survey.answered_at,
    }
