"""Lambda's runtime loop for the functions whose answers stream (create run, create thread and run, submit tool
outputs): Lambda's managed Python runtime cannot write a streamed response, so these functions start this loop
instead (``AWS_LAMBDA_EXEC_WRAPPER`` runs ``wrapper``, which runs ``python -m stream_runtime``). It speaks
Lambda's Runtime API itself and answers every invocation in API Gateway's streaming format: a JSON prelude
(status, headers), eight NUL bytes, then the body, each piece sent as the handler writes it."""
