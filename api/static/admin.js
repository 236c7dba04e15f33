// The admin view: token (sessionStorage only), collections, reindex, rollback, drop.

import { adminToken, api, watchJob } from "./api.js";
import { announce, el, formatDuration, formatTime } from "./ui.js";

const $ = (id) => document.getElementById(id);

function showPanel(unlocked) {
  $("admin-panel").hidden = !unlocked;
  $("token-forget").hidden = !unlocked;
  $("token-state").textContent = unlocked ? "Token set for this tab." : "Locked.";
}

/** One short sentence, shown in the panel until the next action (and said once). */
function fail(what, error) {
  if (error.status === 401 || error.status === 403) {
    adminToken.clear();
    showPanel(false);
    $("token").focus();
  }
  const first = String(error.message || "").split("\n")[0].slice(0, 200);
  const sentence = `${what}: ${first}`;
  $("admin-error").textContent = sentence;
  $("admin-error").hidden = false;
  announce(sentence, { error: true });
}

function clearError() {
  $("admin-error").hidden = true;
  $("admin-error").textContent = "";
}

/** A button that asks for a second press before doing something destructive. */
function confirmButton(label, confirmLabel, action) {
  let armed = null;
  const button = el("button.secondary.danger", { type: "button" }, label);
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    await action();
  });
  return button;
}

function indexText(index) {
  if (!index) return "";
  const parts = [`${index.indexed.toLocaleString()} indexed`];
  if (index.pending) parts.push(`${index.pending.toLocaleString()} pending`);
  if (index.build_running) {
    const share = index.build_progress == null ? "" : ` ${Math.round(index.build_progress * 100)}%`;
    parts.push(`building${share}`);
  } else if (index.last_build_s != null) {
    parts.push(`last build ${index.last_build_s.toFixed(0)} s`);
  }
  return parts.join(" · ");
}

function collectionRow(c) {
  const state = c.live ? "live" : c.building ? "building" : "idle";
  const drop = !c.live && !c.building
    ? confirmButton("Drop", `Really drop ${c.name}?`, () => dropCollection(c.name))
    : null;
  return el("tr", { dataset: { name: c.name } },
    el("td", {}, el("code", {}, c.name)),
    el("td.wide", {}, c.model_id),
    el("td.num", {}, c.points.toLocaleString()),
    el("td.wide", {}, indexText(c.index)),
    el("td", {}, el(`span.badge.${state}`, {}, state)),
    el("td.wide", {}, formatTime(c.created_at)),
    el("td", {}, drop),
  );
}

export async function loadCollections() {
  try {
    const rows = await api("/v1/admin/collections", { admin: true });
    $("collections-body").replaceChildren(...rows.map(collectionRow));
    showPanel(true);
    return rows;
  } catch (error) {
    fail("Could not list collections", error);
    return [];
  }
}

async function dropCollection(name) {
  try {
    await api(`/v1/admin/collections/${encodeURIComponent(name)}`, { method: "DELETE", admin: true });
    announce(`Dropped ${name}.`);
  } catch (error) {
    fail(`Could not drop ${name}`, error);
  }
  loadCollections();
}

async function rollback() {
  clearError();
  try {
    const answer = await api("/v1/admin/rollback", { method: "POST", admin: true });
    const said = `Rolled back: ${answer.live} is live again (was ${answer.previous}).`;
    // What the reindex panel said ("now live") is no longer true.
    $("reindex-job").replaceChildren(el("p", {}, said));
    announce(said);
  } catch (error) {
    fail("Rollback refused", error);
  }
  loadCollections();
}

async function reindex(event) {
  event.preventDefault();
  const model = $("reindex-model").value.trim();
  const button = $("reindex-start");
  clearError();
  button.disabled = true;
  try {
    const job = await api("/v1/admin/reindex", { method: "POST", admin: true, json: model ? { model } : {} });
    announce(`Reindex started (job ${job.id.slice(0, 8)}).`);
    const bar = el("progress", { max: 1, value: 0, "aria-label": "Reindex progress" });
    const text = el("p");
    $("reindex-job").replaceChildren(bar, text);
    const show = (j, state = j.state) => {
      bar.value = j.total ? (j.done + j.failed) / j.total : 0;
      const eta = j.eta_s != null && j.state === "running" ? ` · ETA ${formatDuration(j.eta_s)}` : "";
      text.textContent = `${state}: ${j.done}/${j.total} done, ${j.failed} failed${eta}`;
    };
    let done = await watchJob(job.id, show, 700);
    // The job reads "succeeded" once every item is embedded; the final check and the swap of
    // the live alias follow (meta.swapped), and a failed check turns the job "failed".
    while (done.state === "succeeded" && !done.meta.swapped) {
      show(done, "checking and swapping");
      await new Promise((r) => setTimeout(r, 500));
      done = await api(`/v1/jobs/${encodeURIComponent(job.id)}`);
    }
    show(done, done.state === "succeeded" ? "succeeded, now live" : done.state);
    bar.value = 1;
    announce(done.state === "succeeded" ? "Reindex done: the new collection is live." : `Reindex ${done.state}.`);
  } catch (error) {
    fail("Reindex refused", error);
  } finally {
    button.disabled = false;
    loadCollections();
  }
}

export function initAdmin() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    adminToken.set(token);
    $("token").value = "";
    loadCollections();
  });
  $("token-forget").addEventListener("click", () => {
    adminToken.clear();
    showPanel(false);
    announce("Admin token forgotten.");
  });
  $("collections-refresh").addEventListener("click", loadCollections);
  $("rollback-slot").replaceChildren(confirmButton("Roll back", "Really roll back?", rollback));
  $("reindex-form").addEventListener("submit", reindex);
  showPanel(false);
}

/** Called when the view is shown: with a token already set, list at once. */
export function enterAdmin() {
  if (adminToken.get()) loadCollections();
  else $("token").focus();
}
