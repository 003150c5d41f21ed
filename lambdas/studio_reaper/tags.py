"""The tag keys notebook deployments carry: the one place the Studio guardrails (IAM
conditions in the Studio stack), the reaper and the report read them from.

Kept free of imports so the CDK app can import it (lambdas/ is on its path) at no cost.
"""

# The Studio user profile that created the resource. The execution role may create models,
# endpoint configs and endpoints only with it (aws:RequestTag), and the reaper considers only
# endpoints that carry it.
OWNER_TAG = "fm:owner"
# Optional, set by the owner: hours after creation at which the reaper deletes the endpoint
# (default: config studio.deploy.ttl_hours).
TTL_TAG = "ttl-hours"
# Written by the reaper when it notifies the owner (ISO 8601 UTC time); the run after that
# deletes the endpoint if it is still idle or expired.
NOTIFIED_TAG = "fm:reap-notified-at"
# Bounds a ttl-hours tag may take; anything else falls back to the default.
TTL_HOURS_RANGE = (1, 8760)
