"""Feedback: ratings and rankings of generated outputs."""

from __future__ import annotations

from typing import Annotated, Optional, Union

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from frontdoor.models.base import ApiModel, Integral, RequestModel, all_given, none_given, refuse
from frontdoor.services.feedback import MAX_COMMENT_CHARS

# An output's index, or its id: an id has a non-digit, so no id reads like an index
# (both are stored as strings) and "distinct" means the same to JSON Schema and to us.
RankItem = Union[Annotated[int, Field(ge=0, le=1000), Integral],
                 Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"[^0-9]")]]


class FeedbackRequest(RequestModel):
    """Exactly one of ``rating`` or ``ranking``; ``candidate_id`` only with ``rating``."""

    # Refused: neither signal, both, or a ranking with a candidate_id ("given" = present and not null).
    model_config = ConfigDict(json_schema_extra=refuse(
        none_given("rating", "ranking"), all_given("rating", "ranking"), all_given("ranking", "candidate_id")))

    request_id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    rating: Optional[Annotated[int, Field(ge=1, le=5), Integral]] = None
    ranking: Optional[Annotated[list[RankItem], Field(min_length=2, max_length=16, json_schema_extra={
        "uniqueItems": True})]] = Field(
        default=None, description="Distinct output indices (integers) or ids (strings with a non-digit), best first")
    candidate_id: Optional[Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"[^0-9]")]] = Field(
        default=None, description="With rating: which candidate (id from the generation's candidates) is rated")
    comment: Optional[Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS)]] = None

    @model_validator(mode="after")
    def _one_signal(self) -> FeedbackRequest:
        if (self.rating is None) == (self.ranking is None):
            raise ValueError("give exactly one of rating or ranking")
        if self.ranking is not None and self.candidate_id is not None:
            raise ValueError("candidate_id goes with a rating; a ranking names its candidates itself")
        if self.ranking is not None and len({str(i) for i in self.ranking}) != len(self.ranking):
            raise ValueError("ranking items must be distinct")
        return self


class FeedbackResponse(ApiModel):
    feedback_id: str
    request_id: str
    created_at: str

