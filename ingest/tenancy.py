"""Tenants: one library per tenant inside the same collections, blobs and job store.

A caller with a tenant sees only what carries that tenant (the ``tenant`` payload of items, the
``tenant`` meta of jobs); anything else does not exist for it (NotFound, never Forbidden: the
answer must not tell that someone else has it). A caller without a tenant (None) acts on the
whole library. Blobs are content-addressed and shared: deleting one tenant's item removes the
blob only when no other item still uses it.
"""

from __future__ import annotations

from loupe.ingest.jobs import Job
from loupe.search.errors import NotFound
from loupe.search.index import TENANT_FIELD, Filter, Hit, VectorIndex


def owns_item(hit: Hit, tenant: str | None) -> bool:
    return tenant is None or hit.payload.get(TENANT_FIELD) == tenant


def owns_job(job: Job, tenant: str | None) -> bool:
    return tenant is None or job.meta.get(TENANT_FIELD) == tenant


def own_job(job: Job, tenant: str | None) -> Job:
    """``job`` when ``tenant`` may see it, else NotFound (as for an unknown id)."""
    if not owns_job(job, tenant):
        raise NotFound(f"no job {job.id}")
    return job


def job_meta(tenant: str | None) -> dict[str, str]:
    """The meta that stamps a new job with its tenant."""
    return {TENANT_FIELD: tenant} if tenant else {}


def blob_in_use(index: VectorIndex, sha256: str) -> bool:
    """Whether any item of any tenant, in any collection, still points at the blob."""
    wanted = Filter(equals={"sha256": sha256})
    return any(index.count(info.name, wanted) > 0 for info in index.list_collections())
