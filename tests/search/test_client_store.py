"""ClientIndex against a real HTTP server that records what qdrant-client sends (no Qdrant)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from qdrant_client.http import models as qm

from loupe.search.index import IndexUnavailable
from loupe.search.index.base import BOOL_FIELDS, KEYWORD_FIELDS, NUMERIC_FIELDS, TENANT_FIELD
from loupe.search.index.client_store import ClientIndex


class Recorder(BaseHTTPRequestHandler):
    """Answers like a Qdrant server with an empty store; ``status`` forces an error status."""

    requests: list[tuple[str, str, dict[str, str], Any]]
    status = 200

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.requests.append((self.command, self.path, dict(self.headers), body))
        result: Any = True
        if self.path.endswith("/exists"):
            result = {"exists": False}
        elif "/index" in self.path:
            result = {"operation_id": 1, "status": "completed"}
        data = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = _answer  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"requests": [], "status": 200})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def test_create_collection_sends_shards_replicas_stamp_and_payload_indexes(
    server: tuple[str, type[Recorder]],
) -> None:
    url, handler = server
    with pytest.warns(UserWarning, match="insecure"):
        index = ClientIndex(url, api_key="k3y", shards=3, replicas=2)
    index.create_collection("gen1", model_id="m1", dim=384, visual_dim=1280)
    index.close()
    creates = [
        r for r in handler.requests if r[0] == "PUT" and r[1].split("?")[0] == "/collections/gen1"
    ]
    assert len(creates) == 1
    sent = qm.CreateCollection.model_validate(creates[0][3])
    assert (sent.shard_number, sent.replication_factor) == (3, 2)
    assert isinstance(sent.vectors, dict)
    assert {k: (v.size, v.distance) for k, v in sent.vectors.items()} == {
        "semantic": (384, qm.Distance.COSINE),
        "visual": (1280, qm.Distance.COSINE),
    }
    assert sent.metadata is not None
    assert sent.metadata["loupe"]["model_id"] == "m1"
    assert creates[0][2]["api-key"] == "k3y"
    indexed = {
        r[3]["field_name"]: r[3]["field_schema"] for r in handler.requests if "/index" in r[1]
    }
    assert indexed == {
        **dict.fromkeys(KEYWORD_FIELDS, "keyword"),
        **dict.fromkeys(NUMERIC_FIELDS, "float"),
        **dict.fromkeys(BOOL_FIELDS, "bool"),
        # The tenant partition (Qdrant's multitenancy: a keyword index marked is_tenant).
        TENANT_FIELD: {"type": "keyword", "is_tenant": True},
    }


def test_local_mode_accepts_the_same_collection_settings() -> None:
    index = ClientIndex(":memory:", shards=4, replicas=3)
    index.create_collection("c", model_id="m1", dim=8, visual_dim=None)
    assert index.collection_info("c").visual_dim is None
    index.close()


def test_server_errors_are_unavailable(server: tuple[str, type[Recorder]]) -> None:
    url, handler = server
    handler.status = 503
    index = ClientIndex(url)
    with pytest.raises(IndexUnavailable, match="503"):
        index.count("gen1")
    index.close()


def test_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    index = ClientIndex(f"http://127.0.0.1:{port}")
    with pytest.raises(IndexUnavailable, match="unreachable"):
        index.collection_info("gen1")
    index.close()
