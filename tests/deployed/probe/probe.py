"""A function for testing the deployed mode's Lambda itself: it does what the event asks."""

import json
import os
import sys
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event = {**event, **(event.get("queryStringParameters") or {})}  # direct, or through the gateway
    action = event.get("action")
    if action == "environment":
        import boto3
        import botocore

        found = {}
        for name in ("aws_lambda_powertools", "pydantic", "aws_xray_sdk", "moto", "yaml", "pytest", "infra"):
            try:
                __import__(name)
                found[name] = True
            except ImportError:
                found[name] = False
        body = {
            "sys_path": sys.path,
            "boto3": boto3.__version__,
            "botocore": botocore.__version__,
            "imports": found,
            "environ": {k: v for k, v in os.environ.items() if not k.startswith("AWS_SECRET")},
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
        }
    elif action == "dynamodb":
        import boto3

        client = boto3.client("dynamodb")
        try:
            client.get_item(TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
            body = {"outcome": "allowed"}
        except client.exceptions.ClientError as exc:
            body = {"outcome": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    elif action == "sleep":
        time.sleep(float(event["seconds"]))
        body = {"slept": event["seconds"]}
    elif action == "raise":
        raise RuntimeError("the probe failed on purpose")
    elif action == "exit":
        os._exit(3)
    elif action == "large":
        body = {"text": "\u0001" * int(event["characters"])}
    else:
        body = {"event": event}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
