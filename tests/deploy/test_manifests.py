"""deploy/compose.yaml and deploy/k8s/: valid against real schemas and consistent with Loupe.

Compose is validated against the compose-spec JSON schema (vendored by check-jsonschema),
Kubernetes objects against the strict Kubernetes schemas of kubernetes-validate; KEDA's
ScaledObject (a CRD, no schema offline) is checked field by field.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from loupe.api.settings import Settings
from tests.deploy.conftest import (
    API_PORT,
    K8S,
    K8S_NOT_OBJECTS,
    LIVENESS_PATH,
    READINESS_PATH,
    compose_env,
    containers,
    find_object,
    k8s_object_files,
    loupe_subcommands,
    setting_env_names,
)

K8S_VERSION = "1.34.0"
STRONG_TOKEN = "x" * 32


def compose_validator() -> jsonschema.protocols.Validator:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = validator_class(schema)
    return validator


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Build Settings the way a container does: from its environment alone."""
    for name in setting_env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, STRONG_TOKEN if "${" in value else value)
    no_arguments: dict[str, Any] = {}
    return Settings(**no_arguments)


def k8s_env(objects: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= find_object(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
        if "secretRef" in source:
            secret = find_object(objects, "Secret", source["secretRef"]["name"])
            env |= {key: value or STRONG_TOKEN for key, value in secret["stringData"].items()}
    env |= {item["name"]: item["value"] for item in container.get("env", [])}
    return env


# --- compose ---------------------------------------------------------------------------------


def test_compose_matches_the_compose_spec(compose: dict[str, Any]) -> None:
    errors = [error.message for error in compose_validator().iter_errors(compose)]
    assert errors == []


def test_the_compose_spec_check_can_fail(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["healthcheck"]["intervall"] = "5s"
    assert not compose_validator().is_valid(broken)


def test_compose_services_and_images_are_pinned(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"qdrant", "redis", "api", "worker"} <= set(services)
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:v")
    assert services["redis"]["image"].startswith("redis:7")
    for service in services.values():
        name, _, tag = service["image"].partition(":")
        assert tag, f"{name} is not pinned"
        assert tag != "latest", f"{name} is not pinned"
    assert "--appendonly" in services["redis"]["command"]
    assert "qdrant-storage:/qdrant/storage" in services["qdrant"]["volumes"]


def test_compose_env_names_real_settings_and_builds_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("api", "worker"):
        env = compose_env(compose["services"][name])
        loupe = {key: value for key, value in env.items() if key.startswith("LOUPE_")}
        assert set(loupe) <= setting_env_names(), f"{name}: unknown LOUPE_ variables"
        settings = settings_from(loupe, monkeypatch)
        assert settings.model == "clip:clip-ViT-B-32"
        assert settings.qdrant_url == "http://qdrant:6333"
        assert settings.broker_url is not None
        assert urlsplit(settings.broker_url).hostname == "redis"


def test_compose_api_port_healthcheck_and_command(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    env = compose_env(api)
    assert env["LOUPE_HOST"] == "0.0.0.0"
    assert int(env["LOUPE_PORT"]) == API_PORT
    assert f"{API_PORT}:{API_PORT}" in api["ports"]
    probe = " ".join(api["healthcheck"]["test"])
    assert f"127.0.0.1:{API_PORT}{LIVENESS_PATH}" in probe
    assert api["command"][0] in loupe_subcommands()
    assert compose["services"]["worker"]["command"][0] in loupe_subcommands()


def test_compose_worker_reserves_a_gpu_and_shares_blobs(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    api_volumes = set(compose["services"]["api"]["volumes"])
    assert api_volumes & set(worker["volumes"]), "api and worker share no blob volume"


# --- Kubernetes --------------------------------------------------------------------------------


def test_k8s_objects_match_the_kubernetes_schemas(k8s: list[dict[str, Any]]) -> None:
    checked = 0
    for item in k8s:
        if item["apiVersion"].startswith("keda.sh/"):
            continue
        kubernetes_validate.validate(item, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 10


def test_the_kubernetes_schema_check_can_fail(k8s: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(find_object(k8s, "Deployment", "loupe-api"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_kustomization_lists_every_object_file() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    assert listed == {path.name for path in k8s_object_files()}
    assert not listed & K8S_NOT_OBJECTS


def test_k8s_env_names_real_settings_and_builds_valid_settings(
    k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    loupe_containers = [(n, c) for n, c in containers(k8s) if n.startswith("loupe-")]
    assert {name for name, _ in loupe_containers} == {"loupe-api", "loupe-worker"}
    for name, container in loupe_containers:
        env = k8s_env(k8s, container)
        loupe = {key: value for key, value in env.items() if key.startswith("LOUPE_")}
        assert set(loupe) <= setting_env_names(), f"{name}: unknown LOUPE_ variables"
        settings = settings_from(loupe, monkeypatch)
        assert settings.qdrant_shards == 6
        assert settings.qdrant_replicas == 2
        assert settings.blob_url is not None
        assert settings.blob_url.startswith("s3://")
        assert container["args"][0] in loupe_subcommands()


def test_every_required_setting_is_set_everywhere(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    required = {f"LOUPE_{n.upper()}" for n, f in Settings.model_fields.items() if f.is_required()}
    for name in ("api", "worker"):
        assert required <= set(compose_env(compose["services"][name])), name
    for name, container in containers(k8s):
        if name.startswith("loupe-"):
            assert required <= set(k8s_env(k8s, container)), name


def test_admin_token_lives_in_a_secret(k8s: list[dict[str, Any]]) -> None:
    config = find_object(k8s, "ConfigMap", "loupe-config")["data"]
    secret = find_object(k8s, "Secret", "loupe-secrets")["stringData"]
    assert "LOUPE_ADMIN_TOKEN" in secret
    assert not {"LOUPE_ADMIN_TOKEN", "LOUPE_QDRANT_API_KEY", "AWS_SECRET_ACCESS_KEY"} & set(config)


def test_api_ports_and_probes(k8s: list[dict[str, Any]]) -> None:
    api = find_object(k8s, "Deployment", "loupe-api")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": API_PORT}
    assert int(find_object(k8s, "ConfigMap", "loupe-config")["data"]["LOUPE_PORT"]) == API_PORT
    for probe, path in (("readinessProbe", READINESS_PATH), ("livenessProbe", LIVENESS_PATH)):
        get = container[probe]["httpGet"]
        assert get["path"] == path
        assert ports.get(get["port"], get["port"]) == API_PORT
    service = find_object(k8s, "Service", "loupe-api")
    assert service["spec"]["selector"].items() <= api["spec"]["selector"]["matchLabels"].items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    backend = find_object(k8s, "Ingress", "loupe-api")["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"]["name"] == "loupe-api"
    assert backend["backend"]["service"]["port"]["name"] in {
        p["name"] for p in service["spec"]["ports"]
    }


def test_pdbs_select_their_deployments(k8s: list[dict[str, Any]]) -> None:
    for name in ("loupe-api", "loupe-worker"):
        selector = find_object(k8s, "PodDisruptionBudget", name)["spec"]["selector"]
        labels = find_object(k8s, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert selector["matchLabels"].items() <= labels.items()


def test_worker_takes_one_gpu(k8s: list[dict[str, Any]]) -> None:
    worker = find_object(k8s, "Deployment", "loupe-worker")
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_keda_scales_workers_on_the_celery_queue(k8s: list[dict[str, Any]]) -> None:
    scaled = find_object(k8s, "ScaledObject", "loupe-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    target = scaled["spec"]["scaleTargetRef"]
    find_object(k8s, target.get("kind", "Deployment"), target["name"])
    assert 0 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    meta = trigger["metadata"]
    assert meta["listName"] == "celery"
    assert int(meta["listLength"]) >= 1
    broker = urlsplit(find_object(k8s, "ConfigMap", "loupe-config")["data"]["LOUPE_BROKER_URL"])
    host, _, port = meta["address"].partition(":")
    assert host.split(".")[0] == broker.hostname
    find_object(k8s, "Service", host.split(".")[0])
    assert int(port) == (broker.port or 6379)
    assert meta["databaseIndex"] == (broker.path.strip("/") or "0")


def test_qdrant_helm_values_are_distributed(compose: dict[str, Any]) -> None:
    values = yaml.safe_load((K8S / "qdrant-values.yaml").read_text(encoding="utf-8"))
    assert values["replicaCount"] == 3
    assert values["config"]["cluster"]["enabled"] is True
    compose_tag = compose["services"]["qdrant"]["image"].partition(":")[2]
    assert values["image"]["tag"] == compose_tag
