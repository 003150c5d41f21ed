"""Feedback on generations, stored for later preference tuning."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from frontdoor.config import runtime
from inference.errors import ModelNotReady
from frontdoor.models import FeedbackRequest, FeedbackResponse, responses
from frontdoor.services.feedback import build_record

router = Router()


@router.post("/v1/feedback", tags=["feedback"], summary="Rate or rank outputs", status_code=201,
             responses=responses({201: (FeedbackResponse, "Stored")}, 400, 413, 415, 503))
def post_feedback(body: FeedbackRequest) -> FeedbackResponse:
    """Store a 1-5 ``rating`` or a ``ranking`` (best first) for the response ``request_id``."""
    store = runtime().feedback
    if store is None:
        raise ModelNotReady("feedback storage is not configured (FEEDBACK_TABLE_NAME)")
    record = build_record(body.request_id, body.rating, body.ranking, body.comment)
    store.put(record)
    return FeedbackResponse(feedback_id=record["feedback_id"], request_id=body.request_id,
                            created_at=record["created_at"])
