"""Scoped API keys through real HTTP: keys made by the CLI and by the admin routes, 401 for a
missing or unknown key, 403 for a scope too low, revocation that acts at once (also from
another process), per-key limits answered 429 with Retry-After, the audit log, and the refusal
to serve an open API on a non-loopback address."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from loupe.api.access.service import open_key_store, refuse_open_bind
from loupe.api.cli import main
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import live_server, make_settings, wait_job

CLI = [sys.executable, "-c", "from loupe.api.cli import main; main()"]


def make_key(data_dir: Path, *args: str) -> str:
    """A key made by ``loupe keys create`` (run in this process) for ``data_dir``."""
    env = {"LOUPE_DATA_DIR": str(data_dir), "LOUPE_ADMIN_TOKEN": None, "LOUPE_BROKER_URL": None}
    result = CliRunner().invoke(main, ["keys", "create", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[0]


@dataclass(frozen=True)
class Site:
    url: str
    data_dir: Path
    keys: dict[str, str]  # scope -> key
    clients: list[httpx.Client] = field(default_factory=list)

    def http(self, key: str | None = None, *, header: str = "bearer") -> httpx.Client:
        headers = {}
        if key is not None:
            headers = (
                {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
            )
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(client)  # closed when the module ends
        return client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("keys") / "data"
    settings = make_settings(data_dir, admin_token=None)
    keys = {
        scope: make_key(data_dir, "--scope", scope, "--name", f"{scope}-1")
        for scope in ("read", "write", "admin")
    }
    with live_server(settings, encoders) as url:
        site = Site(url, data_dir, keys)
        yield site
        for client in site.clients:
            client.close()


def upload(http: httpx.Client, path: Path) -> httpx.Response:
    return http.post("/v1/items", files=[("files", (path.name, path.read_bytes(), "image/jpeg"))])


def test_the_cli_prints_a_key_once_and_stores_only_its_hash(site: Site) -> None:
    stored = (site.data_dir / "keys.sqlite3").read_bytes()
    for key in site.keys.values():
        assert key.startswith("lp_")
        assert key.encode() not in stored
        assert key.split("_", 2)[2].encode() not in stored
    listed = CliRunner().invoke(main, ["keys", "list"], env={"LOUPE_DATA_DIR": str(site.data_dir)})
    assert listed.exit_code == 0, listed.output
    assert "read-1" in listed.output and "admin" in listed.output
    assert not any(key in listed.output for key in site.keys.values())


def test_a_missing_or_unknown_key_is_401(site: Site) -> None:
    for http in (
        site.http(),
        site.http("lp_000000000000_not-a-key"),
        site.http(site.keys["read"] + "x"),
    ):
        for method, path in (
            ("GET", "/v1/jobs"),
            ("POST", "/v1/search"),
            ("GET", "/v1/admin/keys"),
        ):
            response = http.request(method, path, json={"text": "a cat"})
            assert response.status_code == 401, (path, response.text)
            assert response.json()["error"]["type"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert site.http().get("/healthz").status_code == 200  # probes stay open


def test_each_scope_does_what_it_may_and_no_more(site: Site, sample_dir: Path) -> None:
    cat = sample_dir / "cat.jpg"
    reader = site.http(site.keys["read"], header="x-api-key")
    writer = site.http(site.keys["write"])
    admin = site.http(site.keys["admin"])
    assert reader.post("/v1/search", json={"text": "a cat"}).status_code == 200
    assert reader.get("/v1/jobs").status_code == 200
    refused = [
        upload(reader, cat),
        reader.post("/v1/jobs", json={"source": {"path": "."}}),
        reader.delete("/v1/items/00000000-0000-0000-0000-000000000000"),
        writer.post("/v1/admin/reindex", json={}),
        writer.post("/v1/admin/rollback"),
        writer.get("/v1/admin/keys"),
        writer.post("/v1/admin/keys", json={"scope": "admin"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["type"] == "forbidden"
    answer = upload(writer, cat)
    assert answer.status_code == 202, answer.text
    item = answer.json()["items"][0]["id"]
    wait_job(writer, answer.json()["job_id"])
    assert reader.get(f"/v1/items/{item}").status_code == 200
    assert admin.get("/v1/admin/collections").status_code == 200
    assert admin.get("/v1/admin/keys").status_code == 200
    assert writer.delete(f"/v1/items/{item}").status_code == 204


def test_a_revoked_key_stops_at_once_even_from_another_process(site: Site) -> None:
    admin = site.http(site.keys["admin"])
    made = admin.post("/v1/admin/keys", json={"scope": "read", "name": "temp"})
    assert made.status_code == 201, made.text
    secret, key_id = made.json()["key"], made.json()["id"]
    assert secret not in admin.get("/v1/admin/keys").text
    temp = site.http(secret)
    assert temp.get("/v1/jobs").status_code == 200
    assert admin.delete(f"/v1/admin/keys/{key_id}").status_code == 200
    assert temp.get("/v1/jobs").status_code == 401

    other = make_key(site.data_dir, "--scope", "read", "--name", "cli-temp")
    temp = site.http(other)
    assert temp.get("/v1/jobs").status_code == 200
    other_id = other.split("_")[1]
    env = {**os.environ, "LOUPE_DATA_DIR": str(site.data_dir), "PYTHONPATH": os.getcwd()}
    env.pop("LOUPE_BROKER_URL", None)
    revoked = subprocess.run(
        [*CLI, "keys", "revoke", other_id], env=env, capture_output=True, text=True, timeout=120
    )
    assert revoked.returncode == 0, revoked.stderr
    assert temp.get("/v1/jobs").status_code == 401


def test_limits_per_key_answer_429_with_retry_after(site: Site, sample_dir: Path) -> None:
    admin = site.http(site.keys["admin"])
    slow = admin.post("/v1/admin/keys", json={"scope": "read", "requests_per_s": 0.01}).json()
    http = site.http(slow["key"])
    assert http.get("/v1/jobs").status_code == 200
    limited = http.get("/v1/jobs")
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "overloaded"
    assert int(limited.headers["retry-after"]) >= 60

    photo = sample_dir / "cat.jpg"
    allowance = photo.stat().st_size + 100
    small = admin.post(
        "/v1/admin/keys", json={"scope": "write", "upload_bytes_per_hour": allowance}
    ).json()
    http = site.http(small["key"])
    first = upload(http, photo)
    assert first.status_code == 202, first.text
    second = upload(http, photo)
    assert second.status_code == 429, second.text
    assert int(second.headers["retry-after"]) > 60


def test_every_write_is_one_audit_line(
    site: Site, sample_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = site.http(site.keys["write"])
    admin = site.http(site.keys["admin"])
    with caplog.at_level(logging.INFO, logger="loupe.audit"):
        answer = writer.post(
            "/v1/items",
            files=[
                ("files", ("rocket.jpg", (sample_dir / "rocket.jpg").read_bytes(), "image/jpeg"))
            ],
            headers={"X-Request-ID": "req-upload-1"},
        ).json()
        wait_job(writer, answer["job_id"])
        item = answer["items"][0]["id"]
        writer.delete(f"/v1/items/{item}", headers={"X-Request-ID": "req-delete-1"})
        made = admin.post("/v1/admin/keys", json={"scope": "read", "tenant": "t1"}).json()
        admin.delete(f"/v1/admin/keys/{made['id']}")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "loupe.audit"]
    by_action = {line["audit"]: line for line in lines}
    assert by_action["upload"]["ids"] == [item]
    assert by_action["upload"]["request_id"] == "req-upload-1"
    assert by_action["upload"]["key"] == "write-1"
    assert by_action["upload"]["job_id"] == answer["job_id"]
    assert by_action["delete"]["ids"] == [item]
    assert by_action["delete"]["request_id"] == "req-delete-1"
    assert by_action["key.create"]["ids"] == [made["id"]]
    assert by_action["key.create"]["key"] == "admin-1"
    assert by_action["key.create"]["key_tenant"] == "t1"
    assert by_action["key.revoke"]["ids"] == [made["id"]]
    assert all({"tenant", "key_id", "at"} <= set(line) for line in lines)


def test_a_non_loopback_bind_with_no_keys_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, "LOUPE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": os.getcwd()}
    for name in ("LOUPE_ADMIN_TOKEN", "LOUPE_ALLOW_OPEN", "LOUPE_BROKER_URL"):
        env.pop(name, None)
    refused = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "refusing to serve on 0.0.0.0 with no API keys" in refused.stderr
    assert len([line for line in refused.stderr.splitlines() if line.strip()]) == 1


def test_what_may_serve_openly(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path})
    store = open_key_store(settings)
    try:
        assert refuse_open_bind(settings, "127.0.0.1", store) is None
        assert refuse_open_bind(settings, "::1", store) is None
        assert refuse_open_bind(settings, "localhost", store) is None
        assert refuse_open_bind(settings, "192.168.1.20", store) is not None
        opened = Settings.model_validate({"data_dir": tmp_path, "allow_open": True})
        assert refuse_open_bind(opened, "0.0.0.0", store) is None
        token = Settings.model_validate({"data_dir": tmp_path, "admin_token": "x" * 20})
        assert refuse_open_bind(token, "0.0.0.0", store) is None
    finally:
        store.close()
    make_key(tmp_path, "--scope", "read")
    store = open_key_store(settings)
    try:
        assert refuse_open_bind(settings, "0.0.0.0", store) is None
    finally:
        store.close()
