"""Backends: objects with the method names and shapes of boto3's swf and sqs clients."""
