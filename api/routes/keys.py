"""Key management: create (the secret is shown once), list, revoke. Admin scope; an admin key
of a tenant manages only its tenant's keys."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictFloat, StrictInt, StrictStr

from loupe.api.access import audit
from loupe.api.access.keys import ApiKey, Principal, Scope
from loupe.api.deps import AccessDep, AdminDep
from loupe.api.schemas import Strict
from loupe.search.errors import Forbidden, NotFound

router = APIRouter(prefix="/v1/admin/keys", tags=["admin"])


class KeyRequest(Strict):
    scope: Literal["read", "write", "admin"]
    tenant: Annotated[StrictStr, Field(min_length=1, max_length=63)] | None = None
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    requests_per_s: Annotated[StrictFloat | StrictInt, Field(gt=0, le=1e6)] | None = None
    upload_bytes_per_hour: Annotated[StrictInt, Field(gt=0)] | None = None


class KeyModel(BaseModel):
    id: str
    name: str
    scope: str
    tenant: str | None
    created_at: float
    revoked_at: float | None
    requests_per_s: float | None
    upload_bytes_per_hour: int | None


class CreatedKey(KeyModel):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


def key_model(key: ApiKey) -> KeyModel:
    return KeyModel(
        id=key.id,
        name=key.name,
        scope=key.scope.value,
        tenant=key.tenant,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        requests_per_s=key.requests_per_s,
        upload_bytes_per_hour=key.upload_bytes_per_hour,
    )


def _visible(principal: Principal, key: ApiKey) -> bool:
    return principal.tenant is None or key.tenant == principal.tenant


@router.post("", status_code=201, response_model=CreatedKey)
def create_key(
    body: KeyRequest, admin: AdminDep, access: AccessDep, request: Request
) -> CreatedKey:
    tenant = body.tenant
    if admin.tenant is not None:
        if tenant not in (None, admin.tenant):
            raise Forbidden("an admin key of a tenant makes keys of its own tenant only")
        tenant = admin.tenant
    key, secret = access.create(
        scope=Scope(body.scope),
        tenant=tenant,
        name=body.name,
        requests_per_s=float(body.requests_per_s) if body.requests_per_s else None,
        upload_bytes_per_hour=body.upload_bytes_per_hour,
    )
    audit.request_done(
        request, "key.create", ids=[key.id], scope=key.scope.value, key_tenant=key.tenant
    )
    return CreatedKey(**key_model(key).model_dump(), key=secret)


@router.get("", response_model=list[KeyModel])
def list_keys(admin: AdminDep, access: AccessDep) -> list[KeyModel]:
    return [key_model(k) for k in access.list() if _visible(admin, k)]


@router.delete("/{key_id}", response_model=KeyModel)
def revoke_key(key_id: str, admin: AdminDep, access: AccessDep, request: Request) -> KeyModel:
    if not any(k.id == key_id and _visible(admin, k) for k in access.list()):
        raise NotFound(f"no key {key_id}")
    key = access.revoke(key_id)
    audit.request_done(request, "key.revoke", ids=[key.id])
    return key_model(key)
