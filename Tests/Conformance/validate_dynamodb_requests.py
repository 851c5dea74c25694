#!/usr/bin/env python3
"""Checks recorded DynamoDB requests against botocore's service model and DynamoDB's documented limits.

Usage: validate_dynamodb_requests.py REQUESTS.jsonl

Each input line is one request as the fault proxy recorded it:
    {"target": "DynamoDB_20120810.PutItem", "contentType": "application/x-amz-json-1.0", "body": "<base64>"}

Prints one JSON object: {"requests": N, "operations": {name: count}, "problems": [{"index", "operation",
"problem"}]} where `index` is the request's line (0-based). Exit status 0 when it could check (whatever it
found), 2 for unusable input, 3 when botocore is missing.

What counts as a problem is anything AWS would reject that the local server (moto) lets through:
- botocore's ParamValidator on the operation's input shape (types, required members, unknown members,
  minimum lengths and values), after turning the wire shape into botocore's Python params (blobs are
  base64 on the wire and bytes in params; timestamps epoch seconds on the wire and datetimes in params);
- what botocore would send for those params differs from what was sent (member names, encodings);
- the model's maximum lengths/values and patterns, which botocore leaves to the service;
- DynamoDB's documented limits: table/index/backup names 3-255 of [a-zA-Z0-9_.-]; attribute names at
  most 64 KB and key attribute names at most 255 bytes; 25 write requests and 16 MB per BatchWriteItem;
  items at most 400 KB; 100 keys per BatchGetItem; expressions at most 4 KB, every expression attribute
  name and value placeholder defined and used, no empty placeholder maps; expression and legacy
  parameters not mixed; Segment < TotalSegments <= 1,000,000; attribute values with exactly one type,
  non-empty sets without duplicates, numbers of at most 38 significant digits within DynamoDB's range.
"""
import base64
import binascii
import datetime
import json
import re
import sys

try:
    import botocore.session
    from botocore.serialize import create_serializer
    from botocore.validate import ParamValidator
except ImportError as error:  # the Swift test checks first and skips loudly; this is for people running it by hand
    print(f"botocore is not installed ({error})", file=sys.stderr)
    sys.exit(3)

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_BATCH_WRITE_REQUESTS = 25
MAX_BATCH_WRITE_BYTES = 16 * 1024 * 1024
MAX_BATCH_GET_KEYS = 100
MAX_ITEM_BYTES = 400 * 1024
MAX_EXPRESSION_BYTES = 4 * 1024
MAX_NESTING_DEPTH = 32
NAME_SHAPES = {"TableName", "IndexName", "BackupName"}  # 3-255 characters of [a-zA-Z0-9_.-]
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_.-]+")
BYTE_LENGTH_SHAPES = {"AttributeName": 65535, "KeySchemaAttributeName": 255}
# Lists whose limit is checked over the whole request (all tables together), so not again per table.
WHOLE_REQUEST_LIST_SHAPES = {"WriteRequests", "KeyList"}
LEGACY_PARAMETERS = {"AttributesToGet", "ScanFilter", "QueryFilter", "KeyConditions", "Expected",
                     "AttributeUpdates", "ConditionalOperator"}
EXPRESSION_MEMBERS = ("ConditionExpression", "KeyConditionExpression", "FilterExpression",
                      "ProjectionExpression", "UpdateExpression")
NAME_TOKEN = re.compile(r"#[A-Za-z0-9_]+")
VALUE_TOKEN = re.compile(r":[A-Za-z0-9_]+")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class Checker:
    def __init__(self):
        # Key schemas of the tables created by the recorded requests (CreateTable): table name →
        # (table key [(name, type, role)], index keys {index: [(name, type, role)]}).
        self.schemas = {}
        self.model = botocore.session.get_session().get_service_model("dynamodb")
        self.validator = ParamValidator()
        self.serializer = create_serializer("json", include_validation=False)
        self.serializer._timestamp_precision = "millisecond"  # what botocore's clients use for DynamoDB

    # MARK: one request

    def check(self, record):
        """The problems with one recorded request, as strings."""
        problems = []
        target = record.get("target") or ""
        if not target.startswith(TARGET_PREFIX):
            return [f"X-Amz-Target {target!r} does not start with {TARGET_PREFIX!r}"]
        name = target[len(TARGET_PREFIX):]
        if name not in self.model.operation_names:
            return [f"{name} is not an operation of DynamoDB's model"]
        operation = self.model.operation_model(name)
        if record.get("contentType") != CONTENT_TYPE:
            problems.append(f"Content-Type is {record.get('contentType')!r}, not {CONTENT_TYPE!r}")
        raw = base64.b64decode(record.get("body") or "")
        try:
            wire = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return problems + [f"the body is not UTF-8 JSON: {error}"]
        if not isinstance(wire, dict):
            return problems + ["the body is not a JSON object"]
        shape = operation.input_shape

        params = self.to_params(wire, shape, name, problems)
        report = self.validator.validate(params, shape)
        if report.has_errors():
            # botocore's report: one line per problem.
            problems += [f"botocore: {line}" for line in report.generate_report().splitlines() if line.strip()]
        else:
            self.compare_with_serializer(params, operation, wire, problems)

        self.walk(wire, shape, name, problems, depth=0)
        self.check_operation(name, wire, raw, problems)
        return problems

    # MARK: wire → botocore params

    def to_params(self, value, shape, path, problems):
        """`value` (DynamoDB JSON as sent) as botocore's Python params for `shape`."""
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            by_wire = {member.serialization.get("name", key): key for key, member in shape.members.items()}
            params = {}
            for key, item in value.items():
                member = by_wire.get(key)
                if member is None:
                    params[key] = item  # botocore reports the unknown member
                else:
                    params[member] = self.to_params(item, shape.members[member], f"{path}.{key}", problems)
            return params
        if kind == "list" and isinstance(value, list):
            return [self.to_params(item, shape.member, f"{path}[{i}]", problems) for i, item in enumerate(value)]
        if kind == "map" and isinstance(value, dict):
            return {key: self.to_params(item, shape.value, child(path, key), problems) for key, item in value.items()}
        if kind == "blob" and isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"{path}: blob is not valid base64")
                return value
        if kind == "timestamp":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
            problems.append(f"{path}: timestamp {value!r} is not epoch seconds (the JSON protocol sends a number)")
            return value
        if kind in ("integer", "long") and isinstance(value, bool):
            problems.append(f"{path}: {value!r} is a boolean, the model wants an {kind}")
        return value

    def compare_with_serializer(self, params, operation, wire, problems):
        request = self.serializer.serialize_to_request(params, operation)
        expected = json.loads(request["body"].decode("utf-8"))
        for difference in differences(expected, wire, operation.name):
            problems.append(f"botocore would send it differently: {difference}")

    # MARK: the model's maximums and DynamoDB's limits, member by member

    def walk(self, value, shape, path, problems, depth):
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            if shape.name == "AttributeValue":
                self.check_attribute_value(value, path, problems, depth)
            if "ExpressionAttributeNames" in shape.members or "ExpressionAttributeValues" in shape.members:
                self.check_expressions(value, path, problems)
            for key, item in value.items():
                if key in shape.members:
                    self.walk(item, shape.members[key], f"{path}.{key}", problems, depth + (shape.name == "AttributeValue"))
        elif kind == "list" and isinstance(value, list):
            maximum = shape.metadata.get("max")
            if maximum is not None and len(value) > maximum and shape.name not in WHOLE_REQUEST_LIST_SHAPES:
                problems.append(f"{path}: {len(value)} elements, at most {maximum}")
            for i, item in enumerate(value):
                self.walk(item, shape.member, f"{path}[{i}]", problems, depth)
        elif kind == "map" and isinstance(value, dict):
            maximum = shape.metadata.get("max")
            if maximum is not None and len(value) > maximum:
                problems.append(f"{path}: {len(value)} entries, at most {maximum}")
            if shape.name in ("PutItemInputAttributeMap",):
                try:
                    size = item_size(value)
                except (TypeError, AttributeError):
                    size = 0  # a malformed value, reported by botocore
                if size > MAX_ITEM_BYTES:
                    problems.append(f"{path}: the item is {size} bytes, DynamoDB's limit is {MAX_ITEM_BYTES} (400 KB)")
            for key, item in value.items():
                self.check_string(key, shape.key, f"{path} (key)", problems)
                self.walk(item, shape.value, child(path, key), problems, depth)
        elif kind == "string" and isinstance(value, str):
            self.check_string(value, shape, path, problems)
        elif kind in ("integer", "long") and isinstance(value, int):
            maximum = shape.metadata.get("max")
            if maximum is not None and value > maximum:
                problems.append(f"{path}: {value} is more than {maximum}")

    def check_string(self, value, shape, path, problems):
        name = shape.name
        if name in ("TableArn",) and not value.startswith("arn:"):
            name = "TableName"  # a table given by name follows the name rules
        if name in NAME_SHAPES:
            what = {"TableName": "table name", "IndexName": "index name", "BackupName": "backup name"}[name]
            if not 3 <= len(value) <= 255:
                problems.append(f"{path}: {what} {short(value)} has {len(value)} characters, DynamoDB allows 3-255")
            if not NAME_PATTERN.fullmatch(value):
                problems.append(f"{path}: {what} {short(value)} has characters outside [a-zA-Z0-9_.-]")
            return
        if name in BYTE_LENGTH_SHAPES:
            size = len(value.encode("utf-8"))
            limit = BYTE_LENGTH_SHAPES[name]
            if size > limit:
                what = "key attribute name" if name == "KeySchemaAttributeName" else "attribute name"
                problems.append(f"{path}: {what} of {size} bytes, at most {limit}")
            if size == 0:
                problems.append(f"{path}: empty attribute name")
            return
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            problems.append(f"{path}: {len(value)} characters, at most {maximum}")
        pattern = shape.metadata.get("pattern")
        if pattern is not None:
            try:
                compiled = re.compile(pattern)
            except re.error:
                compiled = None  # Java-only syntax (\p{Print}); no DynamoDB name we send uses it
            if compiled is not None and not compiled.fullmatch(value):
                problems.append(f"{path}: {short(value)} does not match {pattern}")

    def check_attribute_value(self, value, path, problems, depth):
        if depth >= MAX_NESTING_DEPTH:
            problems.append(f"{path}: nested more than {MAX_NESTING_DEPTH} levels deep")
        if len(value) != 1:
            problems.append(f"{path}: an AttributeValue needs exactly one type, has {sorted(value) or 'none'}")
        for kind, content in value.items():
            if kind == "N" and isinstance(content, str):
                self.check_number(content, path, problems)
            elif kind == "NS" and isinstance(content, list):
                for number in content:
                    if isinstance(number, str):
                        self.check_number(number, path, problems)
            if kind in ("SS", "NS", "BS") and isinstance(content, list):
                if not content:
                    problems.append(f"{path}: an empty {kind} set (DynamoDB rejects empty sets)")
                canonical = [canonical_number(x) if kind == "NS" else x for x in content]
                if len(set(map(str, canonical))) != len(content):
                    problems.append(f"{path}: the {kind} set has duplicates")
            if kind == "NULL" and content is not True:
                problems.append(f"{path}: NULL must be true")

    def check_number(self, text, path, problems):
        if not NUMBER.match(text.strip()):
            problems.append(f"{path}: {short(text)} is not a number")
            return
        digits, exponent = significant(text)
        if len(digits) > 38:
            problems.append(f"{path}: {short(text)} has {len(digits)} significant digits, at most 38")
        if digits:
            magnitude = exponent + len(digits) - 1  # value = 0.d × 10^(magnitude+1)
            if magnitude >= 126 or magnitude < -130:
                problems.append(f"{path}: {short(text)} is outside DynamoDB's range (1E-130 to 9.9…E+125)")

    def check_expressions(self, value, path, problems):
        names = value.get("ExpressionAttributeNames")
        values = value.get("ExpressionAttributeValues")
        expressions = {key: value[key] for key in EXPRESSION_MEMBERS if isinstance(value.get(key), str)}
        for key, text in expressions.items():
            if not text.strip():
                problems.append(f"{path}.{key}: an empty expression")
            if len(text.encode("utf-8")) > MAX_EXPRESSION_BYTES:
                problems.append(f"{path}.{key}: {len(text.encode('utf-8'))} bytes, expressions are at most 4 KB")
        legacy = sorted(LEGACY_PARAMETERS & set(value))
        if legacy and expressions:
            problems.append(f"{path}: legacy parameters {legacy} mixed with expression parameters {sorted(expressions)}")
        used_names, used_values = set(), set()
        for text in expressions.values():
            used_names.update(NAME_TOKEN.findall(text))
            used_values.update(VALUE_TOKEN.findall(text))
        for member, defined, used, sigil in (("ExpressionAttributeNames", names, used_names, "#"),
                                             ("ExpressionAttributeValues", values, used_values, ":")):
            if defined is None:
                for token in sorted(used):
                    problems.append(f"{path}: {token} is used in an expression but {member} is absent")
                continue
            if not isinstance(defined, dict):
                continue
            if not defined:
                problems.append(f"{path}.{member}: empty (DynamoDB rejects an empty map; leave it out)")
            for token in sorted(defined):
                if not token.startswith(sigil):
                    problems.append(f"{path}.{member}: {short(token)} does not start with {sigil}")
                elif token not in used:
                    problems.append(f"{path}.{member}: {token} is defined but not used in any expression")
            for token in sorted(used - set(defined)):
                problems.append(f"{path}: {token} is used in an expression but not defined in {member}")

    # MARK: whole-request limits

    def learn_schema(self, wire):
        types = {d.get("AttributeName"): d.get("AttributeType") for d in wire.get("AttributeDefinitions") or []
                 if isinstance(d, dict)}

        def key(elements):
            return [(e.get("AttributeName"), types.get(e.get("AttributeName")), e.get("KeyType"))
                    for e in elements or [] if isinstance(e, dict)]
        indexes = {}
        for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for index in wire.get(member) or []:
                if isinstance(index, dict):
                    indexes[index.get("IndexName")] = key(index.get("KeySchema"))
        if isinstance(wire.get("TableName"), str):
            self.schemas[wire["TableName"]] = (key(wire.get("KeySchema")), indexes)

    def check_item_keys(self, table, item, path, problems, key_only=False):
        """An item (or a key) written to a table whose key schema a recorded CreateTable gave."""
        schema = self.schemas.get(table)
        if schema is None or not isinstance(item, dict):
            return
        table_key, indexes = schema
        for name, kind, role in table_key:
            value = item.get(name)
            if not isinstance(value, dict) or len(value) != 1:
                problems.append(f"{path}: the key attribute {short(name)} is missing")
                continue
            self.check_key_value(name, kind, value, 2048 if role == "HASH" else 1024, f"{path}", problems, "key attribute")
        if key_only:
            extra = sorted(set(item) - {name for name, _, _ in table_key})
            if extra:
                problems.append(f"{path}: a key with attributes outside the table's key: {extra}")
            return
        for index, elements in indexes.items():
            for name, kind, role in elements:
                value = item.get(name)
                if isinstance(value, dict) and len(value) == 1:
                    self.check_key_value(name, kind, value, 2048 if role == "HASH" else 1024, path, problems,
                                         f"key attribute of index {short(index)}")

    @staticmethod
    def check_key_value(name, kind, value, limit, path, problems, what):
        (actual, content), = value.items()
        if kind is not None and actual != kind:
            problems.append(f"{path}: {what} {short(name)} is {actual}, the table defines it as {kind}")
            return
        if actual == "S" and isinstance(content, str):
            size = len(content.encode("utf-8"))
        elif actual == "B" and isinstance(content, str):
            size = blob_size(content)
        else:
            return
        if size == 0:
            problems.append(f"{path}: {what} {short(name)} is empty")
        elif size > limit:
            problems.append(f"{path}: {what} {short(name)} is {size} bytes, at most {limit}")

    def check_operation(self, name, wire, raw, problems):
        if name == "CreateTable":
            self.learn_schema(wire)
        elif name == "PutItem":
            self.check_item_keys(wire.get("TableName"), wire.get("Item"), "PutItem.Item", problems)
        elif name in ("DeleteItem", "GetItem", "UpdateItem"):
            self.check_item_keys(wire.get("TableName"), wire.get("Key"), f"{name}.Key", problems, key_only=True)
        if name == "BatchWriteItem":
            requests = wire.get("RequestItems")
            for table, writes in (requests.items() if isinstance(requests, dict) else []):
                schema = self.schemas.get(table)
                seen = set()
                for i, write in enumerate(writes if isinstance(writes, list) else []):
                    if not isinstance(write, dict):
                        continue
                    put, delete = write.get("PutRequest"), write.get("DeleteRequest")
                    where = f"BatchWriteItem.RequestItems.{short(table)}[{i}]"
                    item = put.get("Item") if isinstance(put, dict) else delete.get("Key") if isinstance(delete, dict) else None
                    self.check_item_keys(table, item, where, problems, key_only=put is None)
                    if schema is not None and isinstance(item, dict):
                        key = json.dumps({n: item.get(n) for n, _, _ in schema[0]}, sort_keys=True)
                        if key in seen:
                            problems.append(f"{where}: the batch has this key twice (DynamoDB refuses the whole batch)")
                        seen.add(key)
            requests = wire.get("RequestItems")
            if isinstance(requests, dict):
                count = sum(len(v) for v in requests.values() if isinstance(v, list))
                if count > MAX_BATCH_WRITE_REQUESTS:
                    problems.append(f"BatchWriteItem: {count} write requests, at most {MAX_BATCH_WRITE_REQUESTS}")
                for table, writes in requests.items():
                    for i, write in enumerate(writes if isinstance(writes, list) else []):
                        if isinstance(write, dict) and len(write) != 1:
                            problems.append(f"BatchWriteItem.RequestItems.{short(table)}[{i}]: needs exactly one of "
                                            f"PutRequest or DeleteRequest, has {sorted(write) or 'none'}")
            if len(raw) > MAX_BATCH_WRITE_BYTES:
                problems.append(f"BatchWriteItem: {len(raw)} bytes, at most {MAX_BATCH_WRITE_BYTES} (16 MB)")
        elif name == "BatchGetItem":
            requests = wire.get("RequestItems")
            if isinstance(requests, dict):
                count = sum(len(v.get("Keys") or []) for v in requests.values() if isinstance(v, dict))
                if count > MAX_BATCH_GET_KEYS:
                    problems.append(f"BatchGetItem: {count} keys, at most {MAX_BATCH_GET_KEYS}")
        elif name == "TransactWriteItems" or name == "TransactGetItems":
            items = wire.get("TransactItems")
            if isinstance(items, list):
                for i, entry in enumerate(items):
                    if isinstance(entry, dict) and len(entry) != 1:
                        problems.append(f"{name}.TransactItems[{i}]: needs exactly one action, has {sorted(entry)}")
        if name in ("Scan",):
            segment, total = wire.get("Segment"), wire.get("TotalSegments")
            if (segment is None) != (total is None):
                problems.append("Scan: Segment and TotalSegments go together")
            elif isinstance(segment, int) and isinstance(total, int) and not segment < total:
                problems.append(f"Scan: Segment {segment} is not below TotalSegments {total}")


# MARK: helpers

def child(path, key):
    """`path.key`, with a long or odd key abbreviated and quoted."""
    return f"{path}.{key}" if len(key) <= 40 and re.fullmatch(r"[\w.#:-]*", key) else f"{path}.{short(key)}"


def short(text):
    text = str(text)
    return repr(text if len(text) <= 40 else text[:20] + "…" + text[-10:]) + (f" ({len(text)} chars)" if len(text) > 40 else "")


def significant(text):
    """The significant digits of a number string and the exponent of its last digit."""
    text = text.strip().lstrip("+-")
    mantissa, _, exp = text.lower().partition("e")
    exponent = int(exp) if exp else 0
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    exponent -= len(fraction)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped, exponent


def canonical_number(text):
    if not isinstance(text, str) or not NUMBER.match(text.strip()):
        return text
    digits, exponent = significant(text)
    sign = "-" if text.strip().startswith("-") and digits else ""
    return f"{sign}{digits or '0'}e{exponent if digits else 0}"


def item_size(item):
    """DynamoDB's item size: attribute names plus values, as documented for the 400 KB limit."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def value_size(value):
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    (kind, content), = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return blob_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(x).encode("utf-8")) for x in content)
    if kind == "NS":
        return sum(number_size(x) for x in content)
    if kind == "BS":
        return sum(blob_size(x) for x in content)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in content.items())
    return 0


def blob_size(text):
    try:
        return len(base64.b64decode(text))
    except (binascii.Error, ValueError, TypeError):
        return len(str(text))  # reported as not base64 elsewhere


def number_size(text):
    digits, _ = significant(str(text)) if NUMBER.match(str(text).strip()) else (str(text), 0)
    return min(21, 1 + (len(digits) + 1) // 2)


def differences(expected, actual, path):
    """Where two JSON values differ (numbers equal within a millisecond: timestamps)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key} would be sent")
            elif key not in expected:
                out.append(f"{path}.{key} would not be sent")
            else:
                out += differences(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} elements instead of {len(actual)}"]
        out = []
        for i, (a, b) in enumerate(zip(expected, actual)):
            out += differences(a, b, f"{path}[{i}]")
        return out
    numeric = (int, float)
    if isinstance(expected, numeric) and isinstance(actual, numeric) and not isinstance(expected, bool) \
            and not isinstance(actual, bool):
        return [] if abs(expected - actual) < 0.001 else [f"{path}: {expected!r} instead of {actual!r}"]
    if expected != actual or type(expected) is not type(actual):
        return [f"{path}: {short(expected)} instead of {short(actual)}"]
    return []


def main(arguments):
    if len(arguments) != 1:
        print("usage: validate_dynamodb_requests.py REQUESTS.jsonl", file=sys.stderr)
        return 2
    checker = Checker()
    operations, problems, count = {}, [], 0
    with open(arguments[0], encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                print(f"line {index + 1}: not JSON: {error}", file=sys.stderr)
                return 2
            count += 1
            target = record.get("target") or ""
            operation = target.rpartition(".")[2] or "(no X-Amz-Target)"
            operations[operation] = operations.get(operation, 0) + 1
            for problem in checker.check(record):
                problems.append({"index": index, "operation": operation, "problem": problem})
    json.dump({"requests": count, "operations": operations, "problems": problems}, sys.stdout, indent=1,
              sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
