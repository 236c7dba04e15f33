"""Bulk jobs: create from a source under LOUPE_INGEST_ROOTS, list, inspect, retry, cancel,
resume."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from loupe.api.access import audit
from loupe.api.deps import IngestServiceDep, ReaderDep, WriterDep
from loupe.api.schemas import JobErrorModel, JobList, JobModel, JobRequest
from loupe.ingest.jobs import Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def job_model(job: Job) -> JobModel:
    return JobModel(
        id=job.id,
        kind=job.kind.value,
        state=job.state.value,
        total=job.total,
        done=job.done,
        failed=job.failed,
        pending=job.pending,
        rate=job.rate,
        eta_s=job.eta_s,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        errors=[JobErrorModel(seq=e.seq, item=e.name, message=e.message) for e in job.errors],
        meta={k: v for k, v in job.meta.items() if k != "source_path"},
    )


@router.post("", status_code=202, response_model=JobModel)
def create_job(
    body: JobRequest, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> JobModel:
    job = ingest.bulk(
        body.source.path, tags=body.tags, metadata=dict(body.metadata), tenant=writer.tenant
    )
    audit.request_done(request, "job.create", ids=[job.id], source=body.source.path)
    return job_model(job)


@router.get("", response_model=JobList)
def list_jobs(
    reader: ReaderDep, ingest: IngestServiceDep, limit: int = Query(50, ge=1, le=500)
) -> JobList:
    jobs = ingest.recent_jobs(limit=limit, tenant=reader.tenant)
    return JobList(jobs=[job_model(j) for j in jobs])


@router.get("/{job_id}", response_model=JobModel)
def get_job(job_id: str, reader: ReaderDep, ingest: IngestServiceDep) -> JobModel:
    return job_model(ingest.job(job_id, tenant=reader.tenant))


@router.post("/{job_id}/retry", status_code=202, response_model=JobModel)
def retry_job(
    job_id: str, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> JobModel:
    job, units = ingest.retry(job_id, tenant=writer.tenant)
    audit.request_done(request, "job.retry", ids=[job_id], units=units)
    return job_model(job)


@router.post("/{job_id}/resume", status_code=202, response_model=JobModel)
def resume_job(
    job_id: str, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> JobModel:
    """Take up a cancelled, partial or failed job again: what it left is queued again (units
    already done stay done). 409 for a reindex or a job still running or succeeded."""
    job, units = ingest.resume(job_id, tenant=writer.tenant)
    audit.request_done(request, "job.resume", ids=[job_id], units=units)
    return job_model(job)


@router.post("/{job_id}/cancel", response_model=JobModel)
def cancel_job(
    job_id: str, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> JobModel:
    job, cancelled = ingest.cancel(job_id, tenant=writer.tenant)
    if cancelled:
        audit.request_done(request, "job.cancel", ids=[job_id])
    return job_model(job)
