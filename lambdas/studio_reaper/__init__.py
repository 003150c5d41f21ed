"""Studio reaper: deletes endpoints deployed from Studio notebooks that nobody uses any more
(no invocations for `idle_hours`) or that outlived their `ttl-hours` tag, one run after
telling their owner. Plain boto3 (no Powertools): shipped as its own package asset.

Modules: `tags` (the tag keys the Studio guardrails and this function share), `policy`
(pure decisions), `aws` (boto3 calls), `handler` (the scheduled entry point and the
read-only `plan` the cost report uses).
"""
