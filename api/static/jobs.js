// The jobs view: every job with live progress, errors, Retry and Cancel.

import { api, FINAL_STATES } from "./api.js";
import { onReconnect } from "./net.js";
import { announce, el, formatDuration, formatTime } from "./ui.js";

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);
const nodes = new Map(); // job id → {node, update}
let timer = null;
let isActive = () => false;

function jobNode(job) {
  const title = el("h3.job-title", {}, `${job.kind[0].toUpperCase()}${job.kind.slice(1)} job`, el("code", {}, job.id.slice(0, 8)));
  const badge = el("span.badge");
  const bar = el("progress", { max: 1, value: 0, "aria-label": `Progress of job ${job.id.slice(0, 8)}` });
  const counts = el("p.job-counts");
  const errors = el("details.job-errors", { hidden: true });
  const retry = el("button.secondary", { type: "button", onclick: () => act(job.id, "retry") }, "Retry failed");
  const cancel = el("button.secondary.danger", { type: "button", onclick: () => act(job.id, "cancel") }, "Cancel");
  const resume = el("button.secondary", { type: "button", onclick: () => act(job.id, "resume") }, "Resume");
  const node = el("li.job", { dataset: { id: job.id } },
    el("div.job-head", {}, title, badge),
    bar, counts, errors,
    el("div.job-actions", {}, retry, resume, cancel),
  );
  const update = (j) => {
    node.dataset.state = j.state;
    badge.textContent = j.state;
    badge.className = `badge ${j.state}`;
    bar.value = j.total ? (j.done + j.failed) / j.total : FINAL_STATES.has(j.state) ? 1 : 0;
    const running = !FINAL_STATES.has(j.state);
    const rate = j.rate != null ? `${j.rate.toFixed(1)} items/s` : null;
    const eta = running && j.eta_s != null ? `ETA ${formatDuration(j.eta_s)}` : null;
    const source = j.meta && j.meta.source ? `from ${j.meta.source}` : null;
    const model = j.meta && j.meta.model_id ? `→ ${j.meta.model_id}` : null;
    const tally = j.state === "cancelled"
      ? `cancelled: ${j.done} indexed · ${j.pending} not indexed · ${j.failed} failed · ${j.total} total`
      : `${j.done} done · ${j.failed} failed · ${j.total} total`;
    counts.textContent = [
      tally,
      rate, eta, source, model, `started ${formatTime(j.started_at || j.created_at)}`,
    ].filter(Boolean).join(" · ");
    errors.hidden = !j.errors.length;
    if (j.errors.length) {
      const open = errors.open;
      errors.replaceChildren(
        el("summary", {}, `${j.errors.length} error${j.errors.length === 1 ? "" : "s"}`),
        el("ul", {}, j.errors.map((e) => el("li", {}, el("strong", {}, e.item), `: ${e.message}`))),
      );
      errors.open = open;
    }
    retry.hidden = !(j.failed > 0 && j.state !== "cancelled" && !running);
    cancel.hidden = !running;
    resume.hidden = !(j.state === "cancelled" && j.kind !== "reindex" && (j.pending > 0 || j.failed > 0));
  };
  return { node, update };
}

async function act(jobId, action) {
  try {
    const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}/${action}`, { method: "POST" });
    nodes.get(jobId)?.update(job);
    const said = { retry: "Retrying the failed items.", resume: "Job resumed.", cancel: "Job cancelled." };
    announce(said[action]);
    schedule();
  } catch (error) {
    announce(`Could not ${action} the job: ${error.message}`, { error: true });
  }
}

/** Fetch the job list and update the view in place (focus and open details survive). */
export async function refreshJobs() {
  let jobs;
  try {
    ({ jobs } = await api("/v1/jobs?limit=50"));
  } catch (error) {
    // Say so where the jobs should be; what is still listed may be out of date.
    $("jobs-error-text").textContent = `Jobs could not be loaded: ${error.message}`;
    $("jobs-error").hidden = false;
    $("job-list").classList.add("stale");
    $("jobs-summary").textContent = "";
    $("jobs-empty").hidden = true;
    return;
  }
  $("jobs-error").hidden = true;
  const list = $("job-list");
  list.classList.remove("stale");
  const order = jobs.map((job) => {
    if (!nodes.has(job.id)) nodes.set(job.id, jobNode(job));
    const entry = nodes.get(job.id);
    entry.update(job);
    return entry.node;
  });
  for (const [id, entry] of nodes) {
    if (!jobs.some((j) => j.id === id)) {
      entry.node.remove();
      nodes.delete(id);
    }
  }
  order.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  $("jobs-empty").hidden = jobs.length > 0;
  const running = jobs.filter((j) => !FINAL_STATES.has(j.state)).length;
  $("jobs-summary").textContent = running ? `${running} running` : "All jobs finished.";
  if (running) schedule();
}

function schedule() {
  if (timer || !isActive()) return;
  timer = setTimeout(() => {
    timer = null;
    if (isActive()) refreshJobs();
  }, POLL_MS);
}

export function initJobs({ active }) {
  isActive = active;
  $("jobs-refresh").addEventListener("click", refreshJobs);
  $("jobs-retry").addEventListener("click", refreshJobs);
  onReconnect(() => {
    if (isActive()) refreshJobs();
  });
}
