// The upload view: drop files or a folder, send them in batches with progress, watch the job.

import { api, postWithProgress, watchJob } from "./api.js";
import { announce, el, formatBytes, progressBar } from "./ui.js";

const BATCH = 20;
const IMAGE_NAME = /\.(jpe?g|png|webp|gif|bmp|tiff?|avif|heic|heif)$/i;
const $ = (id) => document.getElementById(id);

let onJob = () => {};

function isImage(file) {
  return file.type ? file.type.startsWith("image/") : IMAGE_NAME.test(file.name);
}

/** One line of the upload list: the file's name, a progress bar and its status. */
function makeRow(file) {
  const bar = progressBar(`Upload of ${file.name}`);
  const status = el("span.file-status", {}, "waiting");
  const node = el("li.upload-row", { dataset: { name: file.name } },
    el("span.file-name", { title: file.webkitRelativePath || file.name }, file.webkitRelativePath || file.name),
    el("span.file-size", {}, formatBytes(file.size)),
    bar,
    status,
  );
  $("upload-list").append(node);
  const set = (text, kind) => {
    status.textContent = text;
    node.dataset.state = kind;
  };
  return { file, node, bar, set };
}

/** Send a batch once: the server takes the good files and refuses the bad ones (each with its
 * reason) in the same answer; only when every file is bad does the request fail as a whole. */
async function sendBatch(rows, tags) {
  const form = new FormData();
  for (const r of rows) form.append("files", r.file, r.file.name);
  if (tags) form.append("tags", tags);
  const total = rows.reduce((sum, r) => sum + r.file.size, 0) || 1;
  for (const r of rows) r.set("uploading", "uploading");
  try {
    const body = await postWithProgress("/v1/items", form, (loaded, size) => {
      // Parts go in order: credit each file with its share of the bytes sent so far.
      let before = 0;
      const sent = (loaded / size) * total;
      for (const r of rows) {
        r.bar.value = Math.min(1, Math.max(0, (sent - before) / (r.file.size || 1)));
        before += r.file.size;
      }
    });
    return accepted(rows, body, tags);
  } catch (error) {
    for (const r of rows) r.set(`refused: ${error.message}`, "refused");
  }
}

function accepted(rows, body, tags = "") {
  const queued = [];
  body.items.forEach((item, i) => {
    const r = rows[i];
    if (!r) return;
    r.bar.value = 1;
    if (item.status === "refused") {
      r.set(`refused: ${item.error}`, "refused");
      return;
    }
    r.node.dataset.id = item.id;
    if (item.status === "duplicate") {
      r.set(tags ? "already in the library: tags added" : "already in the library", "duplicate");
    }
    else {
      r.set("indexing…", "indexing");
      queued.push(r);
    }
  });
  if (!body.job_id) return;
  onJob(body.job_id);
  watchJob(body.job_id, () => {}).then(async (job) => {
    const failed = new Map(job.errors.map((e) => [e.seq, e.message]));
    await Promise.all(queued.map(async (r, seq) => {
      if (failed.has(seq)) r.set(`failed: ${failed.get(seq)}`, "failed");
      else if (job.state !== "cancelled") r.set("searchable", "done");
      // Cancelled: each file says whether it was indexed before the cancel or not.
      else if (await isStored(r.node.dataset.id)) r.set("searchable (indexed before the cancel)", "done");
      else r.set("not indexed: the job was cancelled (resume it in Jobs)", "cancelled");
    }));
    summarize();
  }).catch((error) => {
    for (const r of queued) r.set(`unknown: ${error.message}`, "failed");
  });
}

async function isStored(id) {
  try {
    await api(`/v1/items/${encodeURIComponent(id)}`);
    return true;
  } catch (error) {
    if (error.status === 404) return false;
    throw error;
  }
}

function summarize() {
  const rows = [...$("upload-list").children];
  const count = (state) => rows.filter((n) => n.dataset.state === state).length;
  const parts = [
    [count("done"), "searchable"],
    [count("indexing") + count("uploading") + count("waiting"), "in progress"],
    [count("duplicate"), count("duplicate") === 1 ? "duplicate" : "duplicates"],
    [count("refused") + count("failed"), "refused or failed"],
    [count("cancelled"), "not indexed (cancelled)"],
    [count("skipped"), "skipped"],
  ].filter(([n]) => n).map(([n, what]) => `${n} ${what}`);
  const text = parts.join(" · ");
  $("upload-summary").textContent = text;
  announce(`Upload: ${text}`);
}

/** Upload files: images in batches of ≤ 20; anything else is listed as skipped. */
export async function uploadFiles(files) {
  const tags = $("upload-tags").value.trim();
  const rows = [];
  for (const file of files) {
    const r = makeRow(file);
    if (isImage(file)) {
      r.set("waiting", "waiting");
      rows.push(r);
    } else r.set("skipped: not an image", "skipped");
  }
  summarize();
  for (let i = 0; i < rows.length; i += BATCH) {
    await sendBatch(rows.slice(i, i + BATCH), tags);
    summarize();
  }
}

async function readEntry(entry) {
  if (entry.isFile) return [await new Promise((ok, fail) => entry.file(ok, fail))];
  if (!entry.isDirectory) return [];
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map(readEntry))).flat();
}

async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items]
    .map((item) => (item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null))
    .filter(Boolean);
  if (!entries.length) return [...dataTransfer.files];
  return (await Promise.all(entries.map(readEntry))).flat();
}

export function initUpload({ jobStarted }) {
  onJob = jobStarted;
  const zone = $("dropzone");
  $("pick-files").addEventListener("click", () => $("file-input").click());
  $("pick-folder").addEventListener("click", () => $("folder-input").click());
  for (const id of ["file-input", "folder-input"]) {
    $(id).addEventListener("change", (e) => {
      const files = [...e.target.files];
      e.target.value = "";
      if (files.length) uploadFiles(files);
    });
  }
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const files = await droppedFiles(e.dataTransfer);
    if (files.length) uploadFiles(files);
    else announce("Nothing to upload in what was dropped.", { error: true });
  });
}
