"""The local stack behind ``make serve``: API Gateway (routes, authorizer, usage plan, gateway responses),
Lambda (in process, or as execution environments under each function's IAM role) and DynamoDB (moto, made
to behave as DynamoDB does where it differs)."""
