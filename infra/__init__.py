"""What runs the stack outside AWS: the local API (``serve``), its embedded DynamoDB, and the key admin."""
