"""Static validation of deploy/: Dockerfiles, the compose file, Prometheus' scrape config, Kubernetes manifests.

No Docker engine or cluster runs here, so the files are checked with what the
package registries offer (deploy/README.md, "What is validated"):

- Dockerfiles: parsed by `dockerfile-parse` (PyPI); our rules: multi-stage,
  every base image pinned by exact tag and digest, a non-root numeric USER,
  a HEALTHCHECK on /health, only the packages the service needs copied in,
  every COPY source present in the repository;
- compose.yaml: the compose-spec JSON schema vendored by `check-jsonschema`
  (PyPI), then its wiring (images pinned, build files exist, services reach
  kafka/postgres/jaeger/mailpit by their compose names, Prometheus scrapes all four);
- Kubernetes: `kustomize build` (built from the Go module proxy into .cache/bin/kustomize-v5.8.1,
  `make kustomize`) of the base and the overlay, each object validated by
  `kubernetes-validate` (PyPI, offline schemas, strict: unknown fields fail),
  and our rules (probes on /ready and /health, requests and limits,
  runAsNonRoot, readOnlyRootFilesystem, replicas ≤ partitions).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
SERVICES = ("submission", "scoring", "mentions", "notify")
K8S_VERSION = "1.33.0"
# An exact version tag (not `latest`, not a bare major) and, for our own base image, a digest too.
EXACT_TAG = re.compile(r"^[\w./-]+:v?\d+(\.\d+){1,2}[\w.-]*(@sha256:[0-9a-f]{64})?$")
PINNED_BASE = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}$")


# ------------------------------------------------------------------ Dockerfiles


def dockerfile(service: str) -> DockerfileParser:
    parser = DockerfileParser(path=str(DEPLOY / "docker" / service / "Dockerfile"))
    return parser


def default_args(parser: DockerfileParser) -> dict[str, str]:
    """The global ARGs (before the first FROM) with their default values."""
    args: dict[str, str] = {}
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            break
        if instruction["instruction"] == "ARG" and "=" in instruction["value"]:
            name, _, value = instruction["value"].partition("=")
            args[name.strip()] = value.strip().strip('"')
    return args


def stages(parser: DockerfileParser) -> list[list[dict[str, Any]]]:
    """The instructions of each stage (from its FROM on)."""
    found: list[list[dict[str, Any]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_is_multi_stage_with_pinned_bases(service: str) -> None:
    parser = dockerfile(service)
    args = default_args(parser)
    bases = [re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), image) for image in parser.parent_images]
    assert len(bases) >= 2, "multi-stage: a build stage and a runtime stage"
    for base in bases:
        assert PINNED_BASE.match(base), f"{base}: pin the base image by exact tag and digest"
    runtime = stages(parser)[-1]
    assert any("--from=build" in i["value"] for i in runtime if i["instruction"] == "COPY"), (
        "the runtime stage copies the built environment, not the sources"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_runs_as_non_root_with_a_healthcheck(service: str) -> None:
    runtime = stages(dockerfile(service))[-1]
    users = [i["value"].strip() for i in runtime if i["instruction"] == "USER"]
    assert users, "the runtime stage sets a USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000, f"USER {users[-1]}: a numeric non-root uid (runAsNonRoot can check it)"
    healthchecks = [i["value"] for i in runtime if i["instruction"] == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/health" in healthchecks[0] and "CMD" in healthchecks[0]
    entrypoint = [i["value"] for i in runtime if i["instruction"] == "ENTRYPOINT"]
    assert entrypoint == [f'["python", "-m", "palmares_{service}"]']
    assert any(i["instruction"] == "EXPOSE" and i["value"] == "8080" for i in runtime)


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_copies_only_what_the_service_needs(service: str) -> None:
    parser = dockerfile(service)
    sources = []
    for instruction in parser.structure:
        if instruction["instruction"] == "COPY" and "--from=" not in instruction["value"]:
            sources.append(instruction["value"].split()[0])
    # The label's shared rules go in with the services that depend on them.
    pyproject = (REPO / "services" / service / "pyproject.toml").read_text(encoding="utf-8")
    label = ["services/label"] if '"palmares-label"' in pyproject else []
    assert sorted(sources) == sorted(
        ["requirements/constraints.txt", "contracts", *label, "services/eventkit", f"services/{service}"]
    )
    for source in sources:
        assert (REPO / source).exists(), source
    ignore = (DEPLOY / "docker" / service / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == set(sources), "the build context holds exactly what is copied"


# ------------------------------------------------------------------ compose and Prometheus


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return document


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_stack_has_everything_wired() -> None:
    services = compose()["services"]
    assert set(services) == {"kafka", "postgres", "mailpit", "jaeger", "prometheus", *SERVICES}
    for name, service in services.items():
        assert EXACT_TAG.match(service["image"]), f"{name}: {service['image']} is not an exact tag"
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"], "KRaft: no ZooKeeper"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in SERVICES:
        service = services[name]
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "docker" / name / "Dockerfile"
        env = service["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"].split("//")[1]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert service["read_only"] is True and service["user"] == "10001:10001"
        assert {"kafka", "postgres"} <= set(service["depends_on"])
    assert services["notify"]["environment"]["SMTP_HOST"] == "mailpit"
    assert "OPERATOR_TOKEN" in services["submission"]["environment"]


def test_prometheus_scrapes_the_four_services() -> None:
    prometheus = compose()["services"]["prometheus"]
    mount = prometheus["volumes"][0].split(":")[0]
    config = yaml.safe_load((DEPLOY / mount).read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {t for group in jobs["palmares"]["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:8080" for name in SERVICES}
    assert jobs["palmares"]["metrics_path"] == "/metrics"


# ------------------------------------------------------------------ Kubernetes


def kustomize() -> str | None:
    """`kustomize` built from the Go module proxy (`make kustomize`), else one on PATH."""
    from palmares_stack.gotools import TOOLS

    for candidate in (str(TOOLS["kustomize"].binary()), shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def build(path: Path) -> list[dict[str, Any]]:
    binary = kustomize()
    if binary is None:
        if os.environ.get("CI") and shutil.which("go"):
            pytest.fail("kustomize is not built: `make kustomize` (`make test` builds it before the tests)")
        pytest.skip("kustomize is not built here (`make kustomize`; it needs Go)")
    result = subprocess.run([binary, "build", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def objects_of(kind: str, documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (d for d in documents if d["kind"] == kind)


def raw_base_objects() -> list[dict[str, Any]]:
    files = yaml.safe_load((DEPLOY / "k8s" / "base" / "kustomization.yaml").read_text())["resources"]
    return [d for f in files for d in yaml.safe_load_all((DEPLOY / "k8s" / "base" / f).read_text()) if d]


def test_every_base_manifest_validates_against_the_kubernetes_schemas() -> None:
    """Without kustomize too: the base's files, one by one, in strict mode."""
    for document in raw_base_objects():
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


@pytest.mark.parametrize("target", ["base", "overlays/production"])
def test_kustomize_builds_and_every_object_validates(target: str) -> None:
    documents = build(DEPLOY / "k8s" / target)
    kinds = sorted(d["kind"] for d in documents)
    assert kinds.count("Deployment") == 4 and kinds.count("Service") == 4
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def check_deployment(deployment: dict[str, Any], partitions: int) -> None:
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True, name
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready", name
    assert container["livenessProbe"]["httpGet"]["path"] == "/health", name
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), name
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False, name
    assert security["capabilities"]["drop"] == ["ALL"], name
    assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), f"{name}: a writable /tmp"
    # Consumers of one group share the partitions: a replica beyond the partition count gets none.
    assert deployment["spec"]["replicas"] <= partitions, f"{name}: replicas > partitions ({partitions})"


def test_base_deployments_follow_the_rules() -> None:
    documents = raw_base_objects()
    (config,) = objects_of("ConfigMap", documents)
    partitions = int(config["data"]["PALMARES_TOPIC_PARTITIONS"])
    deployments = list(objects_of("Deployment", documents))
    assert {d["metadata"]["name"] for d in deployments} == set(SERVICES)
    for deployment in deployments:
        check_deployment(deployment, partitions)


def test_overlay_deployments_follow_the_rules() -> None:
    documents = build(DEPLOY / "k8s" / "overlays" / "production")
    (config,) = objects_of("ConfigMap", documents)
    partitions = int(config["data"]["PALMARES_TOPIC_PARTITIONS"])
    for deployment in objects_of("Deployment", documents):
        check_deployment(deployment, partitions)
        assert deployment["metadata"]["namespace"] == "palmares"
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert EXACT_TAG.match(image), image
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in objects_of("Deployment", documents)}
    assert replicas["scoring"] == 6 and partitions == 12


def test_replicas_beyond_partitions_are_caught() -> None:
    (deployment,) = (d for d in raw_base_objects() if d["kind"] == "Deployment" and d["metadata"]["name"] == "scoring")
    too_many = {**deployment, "spec": {**deployment["spec"], "replicas": 7}}
    with pytest.raises(AssertionError, match="replicas > partitions"):
        check_deployment(too_many, 6)
