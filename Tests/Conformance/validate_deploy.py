#!/usr/bin/env python3
"""Checks the deployment files (deploy/, Dockerfile) against what their schedulers would accept.

usage: validate_deploy.py ROOT        (ROOT holds deploy/ and Dockerfile; prints a JSON report)

- deploy/kubernetes/*.yaml: every document against the Kubernetes OpenAPI schema of KUBERNETES_VERSION,
  in its strict form (an unknown or misspelt field is an error, as `kubectl apply --validate=strict` says),
  from the kubernetes-validate package (JSON schemas generated from Kubernetes' OpenAPI, read offline);
  then the rules the API server enforces beyond the schema for what these manifests use (Indexed Jobs,
  backoffLimitPerIndex, podFailurePolicy, podReplacementPolicy), and the files' consistency with each
  other and with dynamo-migrate (--workers equals completions and parallelism, --state is a shared store,
  the mapping file is a key of a mounted ConfigMap, the service account exists and carries the IRSA
  annotation, the user is the Dockerfile's).
- deploy/aws-batch/job-definition.json and submit-job.json: as the input of `aws batch
  register-job-definition --cli-input-json` and `aws batch submit-job --cli-input-json`, against botocore's
  model of AWS Batch (unknown members, types, required members, minimums), plus Batch's documented limits
  (array size 2-10,000, 1-10 attempts, at most 5 evaluateOnExit conditions) and Ref:: parameters.
- deploy/iam/*.json: IAM policy grammar, and every action is an operation of botocore's model of its
  service (or one of the IAM-only names listed below): a misspelt action would silently grant nothing.

The report: {"files": [...], "problems": [{"file", "problem"}], "mappings": [{"source", "text"}]}; the
mappings found in ConfigMaps are returned so the caller can parse them with dynamo-migrate's own loader.
Exit status 0 whenever the report was written (problems included), 2 on bad usage or a missing package.
"""
import glob
import json
import os
import re
import sys

try:
    import yaml
    import jsonschema
    import referencing
    import botocore.session
    from botocore.validate import ParamValidator
    from kubernetes_validate import utils as kv
except ImportError as error:  # pragma: no cover - reported to the caller
    print(f"validate_deploy.py needs PyYAML, jsonschema, kubernetes-validate and botocore: {error}", file=sys.stderr)
    sys.exit(2)

# The oldest Kubernetes the manifests are meant for: podReplacementPolicy is GA from 1.34.
KUBERNETES_VERSION = "1.34.0"

# IAM action names that are not operation names of the service's API model.
IAM_ONLY_ACTIONS = {
    "s3": {
        "ListBucket": "ListObjectsV2",
        "ListBucketMultipartUploads": "ListMultipartUploads",
        "ListMultipartUploadParts": "ListParts",
    },
    "dynamodb": {"ConditionCheckItem": None},
}
# Actions with no resource type: their statements must say "*".
RESOURCELESS_ACTIONS = {"dynamodb:ListStreams", "dynamodb:ListTables", "dynamodb:ListBackups", "dynamodb:DescribeLimits"}
# Services whose operations an IAM prefix covers (DynamoDB Streams' actions are dynamodb:*).
SERVICE_MODELS = {"dynamodb": ["dynamodb", "dynamodbstreams"], "s3": ["s3"]}


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []
        self.files = []
        self.mappings = []
        self.session = botocore.session.get_session()

    def problem(self, path, text):
        self.problems.append({"file": os.path.relpath(path, self.root), "problem": text})

    # MARK: Dockerfile

    def dockerfile_user(self):
        path = os.path.join(self.root, "Dockerfile")
        if not os.path.exists(path):
            self.problem(path, "missing")
            return None
        self.files.append("Dockerfile")
        text = open(path, encoding="utf-8").read()
        users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
        entry = re.findall(r"^ENTRYPOINT\s+(.*)$", text, re.MULTILINE)
        if not users:
            self.problem(path, "no USER: the image would run as root")
            return None
        user = users[-1].split(":")[0]
        if not user.isdigit() or user == "0":
            self.problem(path, f"USER {users[-1]} is not a numeric non-root user (Kubernetes' runAsNonRoot needs a number)")
        if not entry or "dynamo-migrate" not in entry[-1]:
            self.problem(path, "the ENTRYPOINT is not dynamo-migrate")
        if "--static-swift-stdlib" not in text:
            self.problem(path, "the build does not link the Swift runtime statically (--static-swift-stdlib)")
        return int(user) if user.isdigit() else None

    # MARK: Kubernetes

    def kubernetes(self, image_user):
        documents = []
        for path in sorted(glob.glob(os.path.join(self.root, "deploy/kubernetes/*.yaml"))):
            self.files.append(os.path.relpath(path, self.root))
            try:
                loaded = list(yaml.safe_load_all(open(path, encoding="utf-8")))
            except yaml.YAMLError as error:
                self.problem(path, f"not YAML: {error}")
                continue
            for document in loaded:
                if document is None:
                    continue
                if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
                    self.problem(path, "a document without kind and apiVersion")
                    continue
                documents.append((path, document))
                self.schema(path, document)
        if not documents:
            self.problem(os.path.join(self.root, "deploy/kubernetes"), "no manifests")
            return
        by_kind = {}
        for path, document in documents:
            name = (document.get("metadata") or {}).get("name")
            by_kind.setdefault(document["kind"], {})[name] = (path, document)
        namespaces = {(d.get("metadata") or {}).get("namespace") for _, d in documents if d["kind"] != "Namespace"}
        if len(namespaces) != 1:
            self.problem(documents[0][0], f"the manifests use several namespaces: {sorted(map(str, namespaces))}")
        for namespace in namespaces:
            if by_kind.get("Namespace") and namespace not in by_kind["Namespace"]:
                self.problem(documents[0][0], f"namespace {namespace} is not the one namespace.yaml creates")
        for name, (path, config_map) in by_kind.get("ConfigMap", {}).items():
            for key, text in (config_map.get("data") or {}).items():
                if key.endswith((".yaml", ".yml")):
                    self.mappings.append({"source": f"{os.path.relpath(path, self.root)}: ConfigMap {name} key {key}", "text": text})
        for name, (path, account) in by_kind.get("ServiceAccount", {}).items():
            role = ((account.get("metadata") or {}).get("annotations") or {}).get("eks.amazonaws.com/role-arn")
            if role is None:
                self.problem(path, f"ServiceAccount {name}: no eks.amazonaws.com/role-arn annotation (IRSA)")
            elif not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role):
                self.problem(path, f"ServiceAccount {name}: eks.amazonaws.com/role-arn {role!r} is not an IAM role ARN")
        for name, (path, job) in by_kind.get("Job", {}).items():
            self.job(path, name, job, by_kind, image_user)

    def schema(self, path, document):
        kind = f"{document['kind']}/{(document.get('metadata') or {}).get('name')}"
        api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(document["apiVersion"]))
        directory = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"
        try:
            schema = kv.schema_contents(f"{directory}/{document['kind'].lower()}-{api_version}.json", KUBERNETES_VERSION)
        except FileNotFoundError:
            self.problem(path, f"{kind}: Kubernetes {KUBERNETES_VERSION} has no kind {document['kind']} in {document['apiVersion']}")
            return
        definitions = kv.schema_contents(f"{directory}/_definitions.json", KUBERNETES_VERSION)
        registry = referencing.Resource.from_contents(schema) @ referencing.Registry()
        registry = referencing.Resource.from_contents(definitions) @ registry
        validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
        for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
            self.problem(path, f"{kind}: {where or '(document)'}: {error.message}")

    def job(self, path, name, job, by_kind, image_user):
        where = f"Job/{name}"
        spec = job.get("spec") or {}
        pod = ((spec.get("template") or {}).get("spec")) or {}
        containers = pod.get("containers") or []
        container_names = {c.get("name") for c in containers}
        indexed = spec.get("completionMode") == "Indexed"
        # What the API server refuses although the schema allows it (batch/v1 validation).
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            self.problem(path, f"{where}: restartPolicy must be Never or OnFailure for a Job")
        if indexed and spec.get("completions") is None:
            self.problem(path, f"{where}: an Indexed Job needs completions")
        if spec.get("backoffLimitPerIndex") is not None and not indexed:
            self.problem(path, f"{where}: backoffLimitPerIndex needs completionMode: Indexed")
        if spec.get("maxFailedIndexes") is not None:
            if spec.get("backoffLimitPerIndex") is None:
                self.problem(path, f"{where}: maxFailedIndexes needs backoffLimitPerIndex")
            elif isinstance(spec.get("completions"), int) and spec["maxFailedIndexes"] > spec["completions"]:
                self.problem(path, f"{where}: maxFailedIndexes is above completions")
        policy = spec.get("podFailurePolicy")
        if policy is not None:
            if pod.get("restartPolicy") != "Never":
                self.problem(path, f"{where}: podFailurePolicy needs the pod template's restartPolicy: Never")
            if spec.get("podReplacementPolicy", "Failed") != "Failed":
                self.problem(path, f"{where}: with a podFailurePolicy, podReplacementPolicy must be Failed")
            for i, rule in enumerate(policy.get("rules") or []):
                codes = rule.get("onExitCodes")
                if (codes is None) == (rule.get("onPodConditions") is None):
                    self.problem(path, f"{where}: podFailurePolicy.rules[{i}] needs exactly one of onExitCodes and onPodConditions")
                if codes and codes.get("containerName") is not None and codes["containerName"] not in container_names:
                    self.problem(path, f"{where}: podFailurePolicy.rules[{i}] names container {codes['containerName']!r}, which the pod does not have")
                if codes and codes.get("operator") == "In" and 0 in (codes.get("values") or []):
                    self.problem(path, f"{where}: podFailurePolicy.rules[{i}]: exit code 0 cannot be used with operator In")
                if rule.get("action") == "FailIndex" and spec.get("backoffLimitPerIndex") is None:
                    self.problem(path, f"{where}: podFailurePolicy.rules[{i}]: FailIndex needs backoffLimitPerIndex")
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        account = pod.get("serviceAccountName")
        if account is None or account not in by_kind.get("ServiceAccount", {}):
            self.problem(path, f"{where}: serviceAccountName {account!r} is not a ServiceAccount of these manifests")
        security = pod.get("securityContext") or {}
        if security.get("runAsNonRoot") is not True:
            self.problem(path, f"{where}: the pod does not require runAsNonRoot")
        if image_user is not None and security.get("runAsUser") not in (None, image_user):
            self.problem(path, f"{where}: runAsUser {security.get('runAsUser')} is not the image's user {image_user}")
        for container in containers:
            cname = f"{where} container {container.get('name')}"
            mounts = {}
            for mount in container.get("volumeMounts") or []:
                if mount.get("name") not in volumes:
                    self.problem(path, f"{cname}: volumeMount {mount.get('name')!r} names no volume")
                mounts[mount.get("mountPath")] = volumes.get(mount.get("name"))
            resources = container.get("resources") or {}
            if not (resources.get("requests") or {}).get("cpu") or not (resources.get("requests") or {}).get("memory"):
                self.problem(path, f"{cname}: no cpu and memory requests")
            if not (resources.get("limits") or {}).get("memory"):
                self.problem(path, f"{cname}: no memory limit")
            args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
            self.migrate_arguments(path, cname, args, spec, indexed, mounts, by_kind)

    def migrate_arguments(self, path, where, args, spec, indexed, mounts, by_kind):
        if "migrate" not in args:
            self.problem(path, f"{where}: does not run dynamo-migrate migrate")
            return
        rest = args[args.index("migrate") + 1:]
        mapping = rest[0] if rest else None
        options = {}
        for i, arg in enumerate(rest):
            if arg.startswith("--"):
                options[arg] = rest[i + 1] if i + 1 < len(rest) and not rest[i + 1].startswith("--") else True
        state = options.get("--state")
        if not isinstance(state, str) or not state.startswith(("dynamodb://", "s3://")):
            self.problem(path, f"{where}: --state {state!r} is not a shared store (dynamodb://TABLE or s3://BUCKET/PREFIX)")
        if "--status" not in options:
            workers = options.get("--workers")
            if indexed:
                if "--worker" in options:
                    self.problem(path, f"{where}: --worker is fixed in an Indexed Job's pod template: every pod would be the same worker")
                if not isinstance(workers, str) or not workers.isdigit():
                    self.problem(path, f"{where}: an Indexed Job's pods need --workers N (the index comes from JOB_COMPLETION_INDEX)")
                else:
                    for field in ("completions", "parallelism"):
                        if spec.get(field) != int(workers):
                            self.problem(path, f"{where}: --workers {workers} but spec.{field} is {spec.get(field)}")
        if mapping is None or mapping.startswith("--"):
            self.problem(path, f"{where}: no mapping file after migrate")
            return
        directory, key = os.path.split(mapping)
        volume = mounts.get(directory)
        if volume is None or "configMap" not in volume:
            self.problem(path, f"{where}: the mapping {mapping} is not in a mounted ConfigMap volume")
            return
        name = volume["configMap"].get("name")
        found = by_kind.get("ConfigMap", {}).get(name)
        if found is None:
            self.problem(path, f"{where}: ConfigMap {name!r} is not in these manifests")
        elif key not in (found[1].get("data") or {}):
            self.problem(path, f"{where}: ConfigMap {name} has no key {key!r}")

    # MARK: AWS Batch

    def batch(self, image_user):
        model = self.session.get_service_model("batch")
        validator = ParamValidator()
        loaded = {}
        for name, operation in (("job-definition.json", "RegisterJobDefinition"), ("submit-job.json", "SubmitJob")):
            path = os.path.join(self.root, "deploy/aws-batch", name)
            if not os.path.exists(path):
                self.problem(path, "missing")
                continue
            self.files.append(os.path.relpath(path, self.root))
            try:
                document = json.load(open(path, encoding="utf-8"))
            except ValueError as error:
                self.problem(path, f"not JSON: {error}")
                continue
            loaded[name] = (path, document)
            report = validator.validate(document, model.operation_model(operation).input_shape)
            for line in report.generate_report().splitlines():
                if line.strip() and not line.startswith("Parameter validation failed"):
                    self.problem(path, f"botocore ({operation}): {line.strip()}")
            self.retry_strategy(path, document.get("retryStrategy"))
        definition = loaded.get("job-definition.json")
        submit = loaded.get("submit-job.json")
        if definition:
            path, d = definition
            container = d.get("containerProperties") or {}
            command = [str(c) for c in container.get("command") or []]
            for ref in re.findall(r"Ref::(\w+)", " ".join(command)):
                if ref not in (d.get("parameters") or {}):
                    self.problem(path, f"command uses Ref::{ref} but parameters has no default for it")
            if "migrate" not in command:
                self.problem(path, "the command does not run dynamo-migrate migrate")
            if "--worker" in command or "--workers" in command:
                self.problem(path, "--worker/--workers in an array job's command: AWS_BATCH_JOB_ARRAY_INDEX and _SIZE give them")
            state = command[command.index("--state") + 1] if "--state" in command[:-1] else None
            if state is not None and state.startswith("Ref::"):
                state = (d.get("parameters") or {}).get(state[5:])
            if not isinstance(state, str) or not state.startswith(("dynamodb://", "s3://")):
                self.problem(path, f"--state {state!r} is not a shared store (dynamodb://TABLE or s3://BUCKET/PREFIX)")
            role = container.get("jobRoleArn")
            if not isinstance(role, str) or not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role):
                self.problem(path, f"jobRoleArn {role!r} is not an IAM role ARN")
            kinds = {r.get("type") for r in container.get("resourceRequirements") or []}
            if not {"VCPU", "MEMORY"} <= kinds:
                self.problem(path, "resourceRequirements needs VCPU and MEMORY")
            if image_user is not None and container.get("user") not in (None, str(image_user)):
                self.problem(path, f"user {container.get('user')} is not the image's user {image_user}")
        if submit:
            path, s = submit
            size = (s.get("arrayProperties") or {}).get("size")
            if not isinstance(size, int) or not 2 <= size <= 10000:
                self.problem(path, f"arrayProperties.size {size!r}: an array job has 2 to 10,000 children")
            if definition and s.get("jobDefinition") not in (definition[1].get("jobDefinitionName"),):
                self.problem(path, f"jobDefinition {s.get('jobDefinition')!r} is not the job definition's name")
            if definition:
                unknown = set(s.get("parameters") or {}) - set(definition[1].get("parameters") or {})
                for key in sorted(unknown):
                    self.problem(path, f"parameters.{key} is not a parameter of the job definition")

    def retry_strategy(self, path, strategy):
        if strategy is None:
            return
        attempts = strategy.get("attempts")
        if not isinstance(attempts, int) or not 1 <= attempts <= 10:
            self.problem(path, f"retryStrategy.attempts {attempts!r}: Batch allows 1 to 10")
        conditions = strategy.get("evaluateOnExit") or []
        if len(conditions) > 5:
            self.problem(path, f"retryStrategy.evaluateOnExit has {len(conditions)} conditions, at most 5")
        for i, condition in enumerate(conditions):
            if str(condition.get("action", "")).upper() not in ("RETRY", "EXIT"):
                self.problem(path, f"retryStrategy.evaluateOnExit[{i}].action {condition.get('action')!r} is not RETRY or EXIT")
            code = condition.get("onExitCode")
            if code is not None and not re.fullmatch(r"\d+\*?|\*", str(code)):
                self.problem(path, f"retryStrategy.evaluateOnExit[{i}].onExitCode {code!r}: digits, optionally ending in *")

    # MARK: IAM

    def iam(self):
        operations = {}
        for prefix, services in SERVICE_MODELS.items():
            operations[prefix] = set()
            for service in services:
                operations[prefix] |= set(self.session.get_service_model(service).operation_names)
        paths = sorted(glob.glob(os.path.join(self.root, "deploy/iam/*.json")))
        if not paths:
            self.problem(os.path.join(self.root, "deploy/iam"), "no IAM policy documents")
        for path in paths:
            self.files.append(os.path.relpath(path, self.root))
            try:
                policy = json.load(open(path, encoding="utf-8"))
            except ValueError as error:
                self.problem(path, f"not JSON: {error}")
                continue
            if policy.get("Version") != "2012-10-17":
                self.problem(path, f"Version {policy.get('Version')!r}: policies use 2012-10-17")
            unknown = set(policy) - {"Version", "Id", "Statement"}
            for key in sorted(unknown):
                self.problem(path, f"{key} is not a member of a policy document")
            statements = policy.get("Statement")
            if not isinstance(statements, list) or not statements:
                self.problem(path, "no Statement list")
                continue
            sids = [s.get("Sid") for s in statements if isinstance(s, dict) and s.get("Sid")]
            for sid in sorted({s for s in sids if sids.count(s) > 1}):
                self.problem(path, f"Sid {sid} is used twice")
            for i, statement in enumerate(statements):
                where = f"Statement[{i}]" + (f" ({statement.get('Sid')})" if statement.get("Sid") else "")
                for key in sorted(set(statement) - {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "NotPrincipal"}):
                    self.problem(path, f"{where}: {key} is not a member of a statement")
                if statement.get("Effect") not in ("Allow", "Deny"):
                    self.problem(path, f"{where}: Effect {statement.get('Effect')!r} is not Allow or Deny")
                actions = statement.get("Action")
                actions = [actions] if isinstance(actions, str) else actions or []
                resources = statement.get("Resource")
                resources = [resources] if isinstance(resources, str) else resources or []
                if not resources:
                    self.problem(path, f"{where}: no Resource")
                for action in actions:
                    prefix, _, name = action.partition(":")
                    if "*" in action:
                        self.problem(path, f"{where}: wildcard action {action}: least privilege names each action")
                    elif prefix not in operations:
                        self.problem(path, f"{where}: {action}: the check knows no service {prefix!r}")
                    elif name not in operations[prefix] and name not in IAM_ONLY_ACTIONS.get(prefix, {}):
                        self.problem(path, f"{where}: {action} is not an action of {prefix} (no such operation in botocore's model)")
                    if "*" in resources and action not in RESOURCELESS_ACTIONS:
                        self.problem(path, f"{where}: {action} on Resource \"*\": name the tables, streams or bucket")
                for resource in resources:
                    if resource != "*" and not re.fullmatch(r"arn:aws[a-z-]*:(dynamodb|s3):[a-z0-9-]*:(\d{12})?:\S+", resource):
                        self.problem(path, f"{where}: Resource {resource!r} is not a DynamoDB or S3 ARN")

    def run(self):
        user = self.dockerfile_user()
        self.kubernetes(user)
        self.batch(user)
        self.iam()
        return {"files": self.files, "problems": self.problems, "mappings": self.mappings}


def main(arguments):
    if len(arguments) != 1 or not os.path.isdir(arguments[0]):
        print("usage: validate_deploy.py ROOT (the directory holding deploy/ and Dockerfile)", file=sys.stderr)
        return 2
    json.dump(Checker(os.path.abspath(arguments[0])).run(), sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
