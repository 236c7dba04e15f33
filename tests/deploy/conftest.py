"""Shared readers of the deployment files under ``deploy/`` (compose, k8s, Dockerfiles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loupe.api.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILES = (DEPLOY / "Dockerfile", DEPLOY / "Dockerfile.gpu")
# Files under deploy/k8s that are not Kubernetes objects.
K8S_NOT_OBJECTS = frozenset({"kustomization.yaml", "qdrant-values.yaml"})
API_PORT = 8000
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
# The `loupe` subcommands, until api.cli exists; then its click group is the truth.
KNOWN_SUBCOMMANDS = frozenset(
    {"serve", "worker", "ingest", "reindex", "bench", "eval", "search", "jobs"}
)


def loupe_subcommands() -> frozenset[str]:
    try:
        from loupe.api.cli import main
    except ImportError:
        return KNOWN_SUBCOMMANDS
    commands = getattr(main, "commands", None)
    if isinstance(commands, dict) and commands:
        return frozenset(str(name) for name in commands)
    return KNOWN_SUBCOMMANDS


def setting_env_names() -> frozenset[str]:
    return frozenset(f"LOUPE_{name.upper()}" for name in Settings.model_fields)


def load_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def k8s_object_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name not in K8S_NOT_OBJECTS)


def load_k8s_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in k8s_object_files():
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert isinstance(document, dict), f"{path.name}: a document is not a mapping"
            objects.append(document)
    return objects


def find_object(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for item in objects:
        if item["kind"] == kind and item["metadata"]["name"] == name:
            return item
    raise AssertionError(f"no {kind} {name} in deploy/k8s")


def containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for item in objects:
        if item["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            for container in item["spec"]["template"]["spec"]["containers"]:
                yield item["metadata"]["name"], container


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        pairs = (entry.partition("=")[::2] for entry in environment)
        return {key: value for key, value in pairs}
    return {str(key): str(value) for key, value in environment.items()}


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="session")
def k8s() -> list[dict[str, Any]]:
    return load_k8s_objects()
