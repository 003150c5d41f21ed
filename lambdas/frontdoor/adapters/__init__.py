"""boto3 glue of the front door's own (the feedback store); model clients live in ``inference``."""
