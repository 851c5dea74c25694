#!/usr/bin/env python3
"""Copies one DynamoDB table into another the way a user would script it with boto3:
a parallel Scan (one thread per segment) feeding a batch_writer per thread.

usage: boto3_copy.py --endpoint-url URL --source T --target T [--segments N] [--retry-mode standard|adaptive]
Creates the target (same key schema, on-demand) when it is missing. Prints one JSON line:
{"items": N, "seconds": S} (items: read from the source), with "errors" when a segment gave up
(botocore's retries ran out: a throttled table makes the SDK give up), exiting 1.
--retry-mode is botocore's: standard (3 attempts, the default) or adaptive (client-side rate limiting).
"""
import argparse
import json
import threading
import time

import boto3
from botocore.config import Config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--retry-mode", choices=["standard", "adaptive"], default="standard")
    args = parser.parse_args()

    config = Config(max_pool_connections=max(10, args.segments * 2), retries={"mode": args.retry_mode})
    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=args.region)
    client = session.client("dynamodb", endpoint_url=args.endpoint_url, config=config)
    resource = session.resource("dynamodb", endpoint_url=args.endpoint_url, config=config)

    source = client.describe_table(TableName=args.source)["Table"]
    try:
        client.describe_table(TableName=args.target)
    except client.exceptions.ResourceNotFoundException:
        client.create_table(TableName=args.target, KeySchema=source["KeySchema"],
                            AttributeDefinitions=source["AttributeDefinitions"], BillingMode="PAY_PER_REQUEST")
        client.get_waiter("table_exists").wait(TableName=args.target)

    counts = [0] * args.segments
    errors = []

    def copy_segment(segment):
        try:
            table = resource.Table(args.target)
            scan = {"TableName": args.source, "Segment": segment, "TotalSegments": args.segments}
            with table.batch_writer() as writer:
                while True:
                    page = resource.meta.client.scan(**scan)
                    for item in page["Items"]:
                        writer.put_item(Item=item)
                    counts[segment] += len(page["Items"])
                    if "LastEvaluatedKey" not in page:
                        break
                    scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except Exception as error:  # reported after the join
            errors.append(f"segment {segment}: {error!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=copy_segment, args=(s,)) for s in range(args.segments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    result = {"items": sum(counts), "seconds": round(seconds, 3)}
    if errors:
        result["errors"] = errors
    print(json.dumps(result))
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
