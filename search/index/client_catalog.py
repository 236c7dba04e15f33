"""The collections and aliases on a Qdrant server as ``ClientIndex`` keeps them: a collection
made if missing (or its stamp checked), a collection's info by name or alias, and the alias map
and its moves. The caller maps the client's errors (``client_errors``) and, in local mode,
holds the lock.
"""

from __future__ import annotations

from qdrant_client import QdrantClient
from qdrant_client.http import models as qm

from loupe.search.index.base import CollectionInfo, CollectionNotFound
from loupe.search.index.client_schema import create_collection, read_stamp
from loupe.search.index.stamp import Stamp, check_stamp


def ensure_collection(
    client: QdrantClient, name: str, wanted: Stamp, *, shards: int, replicas: int, indexed: bool
) -> None:
    """Create ``name`` stamped ``wanted``; if it exists, ModelMismatch unless its stamp agrees."""
    if client.collection_exists(name):
        check_stamp(name, read_stamp(client, name), wanted, visual=True)
        return
    create_collection(client, name, wanted, shards=shards, replicas=replicas, indexed=indexed)


def alias_map(client: QdrantClient) -> dict[str, str]:
    """Every alias and the collection it points at."""
    return {a.alias_name: a.collection_name for a in client.get_aliases().aliases}


def describe(client: QdrantClient, name: str) -> CollectionInfo:
    """The collection ``name`` (or the one the alias ``name`` points at): stamp, points, aliases."""
    aliases = alias_map(client)
    target = aliases.get(name, name)
    stamp = read_stamp(client, target)
    points = client.count(target, exact=True).count
    return CollectionInfo(
        name=target,
        model_id=stamp.model_id,
        dim=stamp.dim,
        visual_dim=stamp.visual_dim,
        points=points,
        created_at=stamp.created_at,
        aliases=sorted(a for a, c in aliases.items() if c == target),
    )


def point_alias(client: QdrantClient, alias: str, collection: str) -> None:
    """Point ``alias`` at ``collection`` in one update (CollectionNotFound if it is missing)."""
    if not client.collection_exists(collection):
        raise CollectionNotFound(f"no collection named {collection!r}")
    operations: list[qm.AliasOperations] = []
    if alias in alias_map(client):
        operations.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)))
    operations.append(
        qm.CreateAliasOperation(
            create_alias=qm.CreateAlias(collection_name=collection, alias_name=alias)
        )
    )
    client.update_collection_aliases(operations)


def remove_alias(client: QdrantClient, alias: str) -> None:
    """Remove ``alias`` if it exists."""
    if alias in alias_map(client):
        client.update_collection_aliases(
            [qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias))]
        )
