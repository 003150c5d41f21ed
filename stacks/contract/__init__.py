"""What the app promises the Lambda code: the OpenAPI contract and the functions' environment."""
