"""Front-door Lambda: one REST API in front of the SageMaker JumpStart endpoints.

Layering (see docs/frontdoor.md): ``handler``/``routes`` -> ``services`` (pure
logic, no AWS) -> ``adapters`` (boto3). Only stdlib, boto3, Powertools and
pydantic (shipped in the Powertools v3 layer) are imported here.
"""
