#!/usr/bin/env python3
"""A small, deterministic write load on DynamoDB tables: what the applications do to a table while it is
being migrated live (migrate --follow), or to the new tables after cutover.

For each table it first reads a sample of its items (a Scan, --sample per table) and its key schema, then
writes at a steady rate, round-robin over the tables:
  put     a copy of a sampled item under a new key (each key attribute gets a suffix: "-ld<seed>n<N>" for
          strings, a large offset for numbers), with loadSeq set: a new item of the table's own shape, so
          it passes the mapping's transforms exactly as the seeded items do
  update  UpdateItem of a sampled item: loadSeq set, and for an item with a string `status`, sometimes a
          status seen on another item of the table (items move in and out of filters such as
          `filter: {attribute: status, equals: active}`)
  delete  DeleteItem of a sampled item (it leaves the pool, so it is never written again)
Sampled items shared by two sources of a merged target (the estate's overlapping users, orders, ...) are
updated and deleted like any other, which exercises the merge rule under follow.

The same --seed against the same data writes the same operations in the same order. Every write is printed
with --verbose or appended to --log as JSON lines; a summary per table is printed at the end.

Needs only boto3 (scripts/dynamo-load.sh runs it in the project's virtual environment).
"""

import argparse
import json
import os
import random
import re
import sys
import time

import boto3
from botocore.config import Config

NUMBER_OFFSET = 900_000_000_000
SUFFIX = re.compile(r"-ld\d+n\d+$")
BINARY_SUFFIX = re.compile(rb"-ld\d+n\d+$")


def parse_mix(text):
    mix = {"put": 0, "update": 0, "delete": 0}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in mix or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"--mix takes put=N,update=N,delete=N (got '{text}')")
        mix[name] = int(weight)
    if sum(mix.values()) == 0:
        raise argparse.ArgumentTypeError("--mix needs at least one positive weight")
    return mix


def key_text(key):
    """key attributes as name=value, for the printed lines"""
    parts = []
    for name in sorted(key):
        (kind, value), = key[name].items()
        if kind == "B":
            value = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
        parts.append(f"{name}={value}")
    return ",".join(parts)


class TableLoad:
    """One table: its key schema, its pool of known items, what was written to it."""

    def __init__(self, name, key_names, items):
        self.name = name
        self.key_names = key_names
        self.pool = items                       # known items, in Scan order (deterministic on one server)
        self.statuses = sorted({i["status"]["S"] for i in items if "S" in i.get("status", {})})
        self.counts = {"put": 0, "update": 0, "delete": 0}

    def key_of(self, item):
        return {k: item[k] for k in self.key_names}


def new_key_value(value, seed, n):
    (kind, v), = value.items()
    if kind == "S":
        return {"S": f"{SUFFIX.sub('', v)}-ld{seed}n{n}"}    # a copy of a copy: one suffix, not two
    if kind == "N":
        return {"N": str(int(NUMBER_OFFSET + seed * 1_000_000 + n))}
    return {"B": BINARY_SUFFIX.sub(b"", bytes(v)) + f"-ld{seed}n{n}".encode()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--tables", required=True, help="comma-separated table names to write to")
    parser.add_argument("--seed", type=int, default=7, help="same seed and data, same writes (default 7)")
    parser.add_argument("--rate", type=float, default=20, help="writes per second, all tables together (default 20)")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--duration", type=float, help="seconds to write for")
    limit.add_argument("--count", type=int, help="writes to make (default 100 without --duration)")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix("put=40,update=40,delete=20"),
                        help="relative weights of puts, updates and deletes (default put=40,update=40,delete=20)")
    parser.add_argument("--sample", type=int, default=200, help="items read per table to update, delete and copy (default 200)")
    parser.add_argument("--log", metavar="PATH", help="append every write as a JSON line")
    parser.add_argument("--summary-json", metavar="PATH", help="write the totals as JSON")
    parser.add_argument("--label", default="load", help="name printed on each line (default load)")
    parser.add_argument("--verbose", action="store_true", help="print every write")
    args = parser.parse_args()
    if args.rate <= 0:
        parser.error("--rate must be positive")
    if args.count is None and args.duration is None:
        args.count = 100

    # A local server (--endpoint-url) takes any credentials; the environment's are used when set.
    local = {"aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
             "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test")} if args.endpoint_url else {}
    client = boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region, **local,
                          config=Config(retries={"max_attempts": 10, "mode": "standard"}))
    rng = random.Random(args.seed)
    tables = []
    for name in [t.strip() for t in args.tables.split(",") if t.strip()]:
        try:
            schema = client.describe_table(TableName=name)["Table"]["KeySchema"]
        except client.exceptions.ResourceNotFoundException:
            print(f"{args.label}: table {name} (in --tables) does not exist at {args.endpoint_url or 'AWS'}", file=sys.stderr)
            sys.exit(2)
        key_names = [k["AttributeName"] for k in schema]
        items, request = [], {"TableName": name, "Limit": args.sample}
        while len(items) < args.sample:
            page = client.scan(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if not items:
            print(f"{args.label}: table {name} is empty: nothing to copy, update or delete", file=sys.stderr)
            sys.exit(2)
        tables.append(TableLoad(name, key_names, items[: args.sample]))
    if not tables:
        parser.error("--tables names no table")

    log = open(args.log, "a") if args.log else None
    ops = [op for op, weight in args.mix.items() for _ in range(weight)]
    print(f"{args.label}: writing to {len(tables)} tables at {args.rate:g}/s "
          f"({'for %gs' % args.duration if args.duration is not None else '%d writes' % args.count}), seed {args.seed}, "
          f"mix {','.join(f'{k}={v}' for k, v in args.mix.items())}", flush=True)
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / args.rate
        now = time.monotonic()
        if args.count is not None and n >= args.count:
            break
        if args.duration is not None and due - start >= args.duration:
            break
        if due > now:
            time.sleep(due - now)
        table = tables[n % len(tables)]
        op = rng.choice(ops)
        if op != "put" and len(table.pool) <= 1:
            op = "put"                               # keep one item to copy from
        item = table.pool[rng.randrange(len(table.pool))]
        if op == "put":
            new = dict(item)
            for k in table.key_names:
                new[k] = new_key_value(item[k], args.seed, n)
            new["loadSeq"] = {"N": str(n)}
            client.put_item(TableName=table.name, Item=new)
            table.pool.append(new)
            key, detail = table.key_of(new), "copy of " + key_text(table.key_of(item))
        elif op == "update":
            names, values = {"#q": "loadSeq"}, {":q": {"N": str(n)}}
            expression = "SET #q = :q"
            detail = "loadSeq"
            if table.statuses and "S" in item.get("status", {}) and rng.random() < 0.4:
                status = rng.choice(table.statuses)
                names["#s"], values[":s"] = "status", {"S": status}
                expression += ", #s = :s"
                detail += f", status={status}"
                item["status"] = {"S": status}
            key = table.key_of(item)
            client.update_item(TableName=table.name, Key=key, UpdateExpression=expression,
                               ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            item["loadSeq"] = {"N": str(n)}
        else:
            key = table.key_of(item)
            client.delete_item(TableName=table.name, Key=key)
            table.pool.remove(item)
            detail = ""
        table.counts[op] += 1
        line = f"{args.label} #{n} {op} {table.name} {key_text(key)}" + (f" ({detail})" if detail else "")
        if args.verbose:
            print(line, flush=True)
        if log:
            log.write(json.dumps({"n": n, "at": time.time(), "op": op, "table": table.name, "key": key_text(key)}) + "\n")
        n += 1
    elapsed = time.monotonic() - start
    if log:
        log.close()
    width = max(len(t.name) for t in tables)
    for t in tables:
        c = t.counts
        print(f"{args.label}: {t.name:<{width}}  {c['put']:4d} puts  {c['update']:4d} updates  {c['delete']:4d} deletes")
    print(f"{args.label}: {n} writes in {elapsed:.1f}s ({n / elapsed if elapsed > 0 else 0:.1f}/s, asked {args.rate:g}/s)", flush=True)
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump({"writes": n, "seconds": elapsed, "rate": args.rate,
                       "tables": {t.name: t.counts for t in tables}}, f, indent=2)


if __name__ == "__main__":
    main()
