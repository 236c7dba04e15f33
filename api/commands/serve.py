"""``loupe serve``: the API (and, without a broker, the in-process ingestion runner)."""

from __future__ import annotations

import os
import threading
import time

import click
import httpx

from loupe.api.settings import Settings


def _ingest_samples(url: str, folder_name: str) -> None:
    """Upload the sample gallery once the server answers (duplicates are skipped)."""
    from loupe.api.client import LoupeClient
    from loupe.ingest.samples import write_samples

    settings = Settings()
    folder = settings.data_dir / folder_name
    paths = write_samples(folder)
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    client = LoupeClient(url, token=token)
    for _ in range(600):
        try:
            if client.get("/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    result = client.upload_files(paths, tags=["sample"])
    if result.get("job_id"):
        client.wait_job(str(result["job_id"]))
    click.echo(f"sample gallery ready: {len(paths)} photos from {folder}")
    click.echo(f"open {url}/ and search, e.g. 'a cat' or '一只可爱的猫咪'")


def _refuse_open_bind(settings: Settings, host: str) -> None:
    from loupe.api.access.service import open_key_store, refuse_open_bind
    from loupe.search.errors import LoupeError

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = open_key_store(settings)
        try:
            reason = refuse_open_bind(settings, host, store)
        finally:
            store.close()
    except LoupeError as exc:
        raise click.ClickException(exc.message) from None
    if reason:
        raise click.ClickException(reason)


@click.command("serve")
@click.option("--host", default=None, help="Bind address (LOUPE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (LOUPE_PORT, default 8000).")
@click.option("--samples", is_flag=True, help="Ingest the bundled sample gallery at start.")
def command(host: str | None, port: int | None, samples: bool) -> None:
    """Start the HTTP API and the search page."""
    import uvicorn

    from loupe.api.app import create_app
    from loupe.api.commands.startup import check_model
    from loupe.ingest.stores import disk_guard

    settings = Settings()
    check_model(settings)
    state = disk_guard(settings).state()
    if not state.level.writable:
        raise click.ClickException(f"cannot start: {state.sentence()}")
    host = host or settings.host
    port = port or settings.port
    _refuse_open_bind(settings, host)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = create_app(settings, freeze_heap=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}"
    click.echo(f"Loupe on {url}/  (data in {settings.data_dir}, model {settings.model})")
    if samples:
        threading.Thread(target=_ingest_samples, args=(url, "samples"), daemon=True).start()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # keep the logging `loupe` set up; the structured access log is ours
    )
