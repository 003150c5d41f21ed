"""Feedback on generations, stored for later preference tuning."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from frontdoor.config import runtime
from inference.errors import ModelNotReady
from frontdoor.models.feedback import FeedbackRequest, FeedbackResponse
from frontdoor.models.responses import responses
from frontdoor.services.feedback import GENERATION_SK, build_record, partition, resolve_feedback

router = Router()


@router.post("/v1/feedback", tags=["feedback"], summary="Rate or rank outputs", status_code=201,
             responses=responses({201: (FeedbackResponse, "Stored")}, 400, 413, 415, 422, 503))
def post_feedback(body: FeedbackRequest) -> FeedbackResponse:
    """Store a 1-5 ``rating`` (of one candidate: ``candidate_id``) or a ``ranking`` (best
    first: candidate ids or indices) for the response ``request_id`` (its ``x-request-id``).

    Where the deployment stores generations, feedback on a stored one is checked against
    its candidates (an unknown id or index is 422) and kept with the same retention.
    """
    rt = runtime()
    store = rt.feedback
    if store is None:
        raise ModelNotReady("feedback storage is not configured (FEEDBACK_TABLE_NAME)")
    generation = ranked_ids = None
    retention = None
    if rt.env.store_generations:
        retention = rt.env.retention_days
        generation = store.get(partition(body.request_id), GENERATION_SK)
        if generation is not None:
            ranked_ids = resolve_feedback(generation, body.ranking, body.candidate_id)
    record = build_record(body.request_id, body.rating, body.ranking, body.comment, candidate_id=body.candidate_id,
                          ranked_ids=ranked_ids, model=generation.get("model") if generation else None,
                          retention_days=retention)
    store.put(record)
    return FeedbackResponse(feedback_id=record["feedback_id"], request_id=body.request_id,
                            created_at=record["created_at"])
