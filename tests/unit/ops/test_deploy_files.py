"""Static validation of deploy/: Dockerfiles, the compose file, Prometheus' scrape config, Kubernetes manifests.

No Docker engine or cluster runs here, so the files are checked with what the
package registries offer (deploy/README.md, "What is validated"):

- the Dockerfile (one, `ARG SERVICE`): parsed by `dockerfile-parse` (PyPI); our
  rules: multi-stage, every base image pinned by exact tag and digest, a non-root
  numeric USER, a HEALTHCHECK on /health, the entrypoint running the service's
  module, every COPY source present and admitted by the .dockerignore, each image
  installing only its service's closure of Palmarès packages;
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

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
DOCKERIGNORE = DEPLOY / "docker" / "Dockerfile.dockerignore"
SERVICE_PACKAGES = DEPLOY / "docker" / "service_packages.py"
SERVICES = ("submission", "scoring", "mentions", "notify")
K8S_VERSION = "1.33.0"
# An exact version tag (not `latest`, not a bare major) and, for our own base image, a digest too.
EXACT_TAG = re.compile(r"^[\w./-]+:v?\d+(\.\d+){1,2}[\w.-]*(@sha256:[0-9a-f]{64})?$")
PINNED_BASE = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}$")


# ------------------------------------------------------------------ Dockerfile


def load_service_packages() -> ModuleType:
    """deploy/docker/service_packages.py, the script the image's build stage runs (not an installed module)."""
    spec = importlib.util.spec_from_file_location("service_packages", SERVICE_PACKAGES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(DOCKERFILE))


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


def admitted(path: str) -> bool:
    """Whether the Dockerfile's .dockerignore lets `path` into the build context (the last matching rule wins)."""
    verdict = True
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#") or rule.startswith("**/"):
            continue
        pattern = rule.removeprefix("!").rstrip("/")
        if pattern == "*" or path == pattern or path.startswith(pattern + "/"):
            verdict = rule.startswith("!")
    return verdict


def test_dockerfile_is_multi_stage_with_pinned_bases() -> None:
    parser = dockerfile()
    args = default_args(parser)
    bases = [re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), image) for image in parser.parent_images]
    assert len(bases) >= 2, "multi-stage: a build stage and a runtime stage"
    for base in bases:
        assert PINNED_BASE.match(base), f"{base}: pin the base image by exact tag and digest"
    runtime = stages(parser)[-1]
    assert any("--from=build" in i["value"] for i in runtime if i["instruction"] == "COPY"), (
        "the runtime stage copies the built environment, not the sources"
    )


def test_dockerfile_takes_the_service_in_every_stage() -> None:
    # An ARG declared before the first FROM is not visible inside a stage: each stage declares SERVICE.
    for stage in stages(dockerfile()):
        assert any(i["instruction"] == "ARG" and i["value"].strip() == "SERVICE" for i in stage), stage[0]["value"]


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    runtime = stages(dockerfile())[-1]
    users = [i["value"].strip() for i in runtime if i["instruction"] == "USER"]
    assert users, "the runtime stage sets a USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000, f"USER {users[-1]}: a numeric non-root uid (runAsNonRoot can check it)"
    healthchecks = [i["value"] for i in runtime if i["instruction"] == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/health" in healthchecks[0] and "CMD" in healthchecks[0]
    assert any(i["instruction"] == "EXPOSE" and i["value"] == "8080" for i in runtime)


@pytest.mark.parametrize("service", SERVICES)
def test_the_entrypoint_runs_the_service_module(service: str) -> None:
    """ENTRYPOINT is the link made at build time to the service's console script, which is `python -m palmares_<service>`."""
    parser = dockerfile()
    (entrypoint,) = [i["value"] for i in stages(parser)[-1] if i["instruction"] == "ENTRYPOINT"]
    assert entrypoint == '["palmares-service"]'
    build = " ".join(i["value"] for i in stages(parser)[0] if i["instruction"] == "RUN")
    assert 'ln -s "palmares-${SERVICE}" /opt/palmares/bin/palmares-service' in build
    scripts = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert scripts["scripts"][f"palmares-{service}"] == f"palmares_{service}.__main__:main"
    assert (REPO / "services" / service / "src" / f"palmares_{service}" / "__main__.py").is_file()


def test_dockerfile_copies_sources_that_exist_and_reach_the_context() -> None:
    sources = [
        source
        for i in dockerfile().structure
        if i["instruction"] == "COPY" and "--from=" not in i["value"]
        for source in i["value"].split()[:-1]
    ]
    assert {"requirements/bootstrap.txt", "requirements/lock.txt"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), source
        assert admitted(source), f"{source}: copied but kept out of the build context by the .dockerignore"


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_installs_only_what_its_service_needs(service: str) -> None:
    folders = {str(f.relative_to(REPO)) for f in load_service_packages().closure(REPO, service)}
    assert {f"services/{service}", "contracts", "services/eventkit"} <= folders
    # Every Palmarès package the service declares goes in (the label's shared rules for scoring, …).
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {d.removeprefix("palmares-") for d in project["dependencies"] if d.startswith("palmares-")}
    assert {"contracts" if d == "contracts" else f"services/{d}" for d in declared} <= folders
    others = {f"services/{other}" for other in SERVICES if other != service} | {"services/cli"}
    assert not folders & others, f"{service}'s image would carry {sorted(folders & others)}"
    for folder in folders:
        assert admitted(folder), f"{folder} is kept out of the build context"


def test_an_unknown_service_or_a_library_is_refused() -> None:
    closure = load_service_packages().closure
    for name in ("nope", "eventkit", "cli", "contracts"):
        with pytest.raises(SystemExit, match=f"SERVICE='{name}' is not a service"):
            closure(REPO, name)


def test_a_palmares_dependency_without_a_folder_is_refused(tmp_path: Path) -> None:
    """Otherwise pip would look the name up on the package index."""

    def package(folder: str, name: str, dependencies: list[str], script: bool = False) -> None:
        (tmp_path / folder).mkdir(parents=True)
        scripts = f'[project.scripts]\n"{name}" = "x:main"\n' if script else ""
        (tmp_path / folder / "pyproject.toml").write_text(
            f"[project]\nname = {name!r}\ndependencies = {dependencies!r}\n{scripts}", encoding="utf-8"
        )

    package("contracts", "palmares-contracts", ["pydantic==2.14.4"])
    package("services/alpha", "palmares-alpha", ["palmares_contracts", "palmares-ghost>=1", "httpx==0.28.1"], True)
    with pytest.raises(SystemExit, match="palmares-ghost: a Palmarès dependency with no folder"):
        load_service_packages().closure(tmp_path, "alpha")


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
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        assert build["args"] == {"SERVICE": name}
        assert service["image"].split(":")[0] == f"palmares/{name}"
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


def test_manifests_run_the_images_the_dockerfile_builds() -> None:
    """Each Deployment runs `palmares/<service>` (built with SERVICE=<service>), which the overlay retags."""
    built = {name: compose()["services"][name]["image"].split(":")[0] for name in SERVICES}
    for deployment in objects_of("Deployment", raw_base_objects()):
        name = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"].split(":")[0] == built[name], name
    overlay = yaml.safe_load((DEPLOY / "k8s" / "overlays" / "production" / "kustomization.yaml").read_text())
    assert {image["name"] for image in overlay["images"]} == set(built.values())


def test_replicas_beyond_partitions_are_caught() -> None:
    (deployment,) = (d for d in raw_base_objects() if d["kind"] == "Deployment" and d["metadata"]["name"] == "scoring")
    too_many = {**deployment, "spec": {**deployment["spec"], "replicas": 7}}
    with pytest.raises(AssertionError, match="replicas > partitions"):
        check_deployment(too_many, 6)
