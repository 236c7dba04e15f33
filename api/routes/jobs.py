"""Bulk jobs: create from a source under LOUPE_INGEST_ROOTS, list, inspect, retry, cancel,
resume."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from loupe.api.access import audit
from loupe.api.deps import ReaderDep, RuntimeDep, SettingsDep, WriterDep
from loupe.api.schemas import JobErrorModel, JobList, JobModel, JobRequest
from loupe.ingest.jobs import FINAL_STATES, Job, JobKind, JobState, resume
from loupe.ingest.sources import plan_source
from loupe.search.errors import Conflict, Unavailable

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
    body: JobRequest,
    writer: WriterDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    request: Request,
) -> JobModel:
    dispatcher = runtime.dispatcher
    if dispatcher is None:
        raise Unavailable("this process does not dispatch work")
    dispatcher.ping()
    runtime.pipeline.check_space()
    path, units = plan_source(
        body.source.path,
        roots=settings.ingest_roots,
        blobs=runtime.blobs,
        max_bytes=settings.max_upload_bytes,
        tags=body.tags,
        metadata=dict(body.metadata),
    )
    job = runtime.jobs.create(
        JobKind.BULK, units, meta={"source": body.source.path, "source_path": str(path)}
    )
    dispatcher.submit(job.id, [u.seq for u in units])
    audit.request_done(request, "job.create", ids=[job.id], source=body.source.path)
    return job_model(runtime.jobs.get(job.id))


@router.get("", response_model=JobList)
def list_jobs(
    reader: ReaderDep, runtime: RuntimeDep, limit: int = Query(50, ge=1, le=500)
) -> JobList:
    return JobList(jobs=[job_model(j) for j in runtime.jobs.recent(limit=limit)])


@router.get("/{job_id}", response_model=JobModel)
def get_job(job_id: str, reader: ReaderDep, runtime: RuntimeDep) -> JobModel:
    return job_model(runtime.jobs.get(job_id))


@router.post("/{job_id}/retry", status_code=202, response_model=JobModel)
def retry_job(job_id: str, writer: WriterDep, runtime: RuntimeDep, request: Request) -> JobModel:
    if runtime.dispatcher is None:
        raise Unavailable("this process does not dispatch work")
    job = runtime.jobs.get(job_id)
    if job.state is JobState.CANCELLED:
        raise Conflict("a cancelled job cannot be retried")
    runtime.dispatcher.ping()
    seqs = runtime.jobs.retry_failed(job_id)
    if seqs:
        runtime.dispatcher.submit(job_id, seqs)
    audit.request_done(request, "job.retry", ids=[job_id], units=len(seqs))
    return job_model(runtime.jobs.get(job_id))


@router.post("/{job_id}/resume", status_code=202, response_model=JobModel)
def resume_job(job_id: str, writer: WriterDep, runtime: RuntimeDep, request: Request) -> JobModel:
    """Take up a cancelled, partial or failed job again: what it left is queued again (units
    already done stay done). 409 for a reindex or a job still running or succeeded."""
    if runtime.dispatcher is None:
        raise Unavailable("this process does not dispatch work")
    runtime.dispatcher.ping()
    job, seqs = resume(runtime.jobs, job_id)
    if seqs:
        runtime.dispatcher.submit(job_id, seqs)
    audit.request_done(request, "job.resume", ids=[job_id], units=len(seqs))
    return job_model(job)


@router.post("/{job_id}/cancel", response_model=JobModel)
def cancel_job(job_id: str, writer: WriterDep, runtime: RuntimeDep, request: Request) -> JobModel:
    job = runtime.jobs.get(job_id)
    if job.state not in FINAL_STATES:
        runtime.jobs.set_state(job_id, JobState.CANCELLED)
        if job.kind is JobKind.REINDEX:
            runtime.index.delete_alias(runtime.pipeline.next_alias)
        audit.request_done(request, "job.cancel", ids=[job_id])
    return job_model(runtime.jobs.get(job_id))
