// The detail dialog: the original, its metadata, and "more like this".

import { api, setImageSource } from "./api.js";
import { altText, announce, el, formatBytes, formatTime, hitLabel, resultCard, seenWords, whyWords } from "./ui.js";

const $ = (id) => document.getElementById(id);
let opener = null;
let current = null;
let listOf = () => []; // the hits the opener shows, in order: Previous / Next step through them

function row(term, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) {
    return [];
  }
  return [el("dt", {}, term), el("dd", {}, Array.isArray(value) ? value.join(", ") : String(value))];
}

function renderMeta(item) {
  if (document.activeElement !== $("detail-tags")) $("detail-tags").value = (item.tags || []).join(", ");
  const meta = Object.entries(item.metadata || {}).flatMap(([k, v]) => row(k, typeof v === "object" ? JSON.stringify(v) : v));
  $("detail-meta").replaceChildren(
    ...row("File", item.filename),
    ...row("Type", item.mime || item.modality),
    ...row("Size", item.size != null ? formatBytes(item.size) : null),
    ...row("Dimensions", item.width ? `${item.width} × ${item.height}` : null),
    ...row("Tags", item.tags),
    ...row("Taken", item.taken_at && item.taken_at !== item.created_at ? formatTime(item.taken_at) : null),
    ...row("Added", item.created_at ? formatTime(item.created_at) : null),
    ...row("Seen", altText(item)),
    ...row("Text read", item.enrich && item.enrich.text),
    ...row("Matched", seenWords(item)),
    ...row("Concepts", whyWords(item)),
    ...row("Model", item.model_id),
    ...row("Duplicates", item.duplicates),
    ...meta,
    ...row("Id", item.id),
  );
}

function renderMedia(hit) {
  let media = el("blockquote.text-full", {}, hit.text || "");
  if (hit.modality === "image") {
    media = el("img", { alt: altText(hit) || hitLabel(hit) });
    setImageSource(media, hit.original_url);
  }
  $("detail-media").replaceChildren(media);
}

function position(hit) {
  return listOf().findIndex((h) => h.id === hit.id);
}

function updateSteps(hit) {
  const list = listOf();
  const at = position(hit);
  $("detail-prev").disabled = at <= 0;
  $("detail-next").disabled = at < 0 || at >= list.length - 1;
  $("detail-position").textContent = at >= 0 ? `${at + 1} of ${list.length}` : "";
}

/** Show the previous (-1) or next (+1) item of the list the dialog was opened from. */
function step(direction) {
  const list = listOf();
  const at = current ? position(current) : -1;
  const next = list[at + direction];
  if (at < 0 || !next) return;
  openDetail(next);
}

/** Show one item in the dialog (opening it if needed). ``list`` gives the items shown around
 * it (for Previous / Next); without it the dialog keeps the list it had. */
export async function openDetail(hit, { list } = {}) {
  const dialog = $("detail");
  if (list) listOf = list;
  if (!dialog.open) {
    if (!list) listOf = () => [];
    opener = document.activeElement;
    dialog.showModal();
  }
  current = hit;
  updateSteps(hit);
  $("detail-title").textContent = hitLabel(hit);
  $("detail-original").href = hit.original_url;
  $("similar-section").hidden = true;
  $("similar").replaceChildren();
  $("detail-similar").disabled = false;
  renderMedia(hit);
  renderMeta(hit);
  const keep = document.activeElement;
  if (keep !== $("detail-prev") && keep !== $("detail-next")) $("detail-close").focus();
  else if (keep.disabled) $("detail-close").focus();
  try {
    const item = await api(`/v1/items/${encodeURIComponent(hit.id)}`);
    if (current === hit) renderMeta({ ...item, duplicates: hit.duplicates, seen: hit.seen, why: hit.why });
  } catch (error) {
    announce(`Could not load the item: ${error.message}`, { error: true });
  }
}

async function moreLikeThis() {
  const hit = current;
  $("detail-similar").disabled = true;
  try {
    const result = await api(`/v1/items/${encodeURIComponent(hit.id)}/similar?limit=12`);
    if (current !== hit) return;
    const cards = result.hits.map((h) => resultCard(h, (x) => openDetail(x, { list: () => result.hits })));
    $("similar").replaceChildren(...cards);
    $("similar-section").hidden = false;
    const alike = result.total_matches ?? cards.length;
    $("similar-heading").textContent = !cards.length
      ? "Nothing similar yet"
      : alike ? "More like this" : "Nothing much like this (closest shown)";
    $("similar").classList.toggle("others", Boolean(cards.length) && !alike);
    announce(`${alike} similar item${alike === 1 ? "" : "s"}`);
  } catch (error) {
    $("detail-similar").disabled = false;
    announce(`"More like this" failed: ${error.message}`, { error: true });
  }
}

/** Save the tags typed in the dialog (PATCH) and show what the server now holds. */
async function saveTags(event) {
  event.preventDefault();
  const hit = current;
  const tags = [...new Set($("detail-tags").value.split(",").map((t) => t.trim()).filter(Boolean))];
  try {
    const item = await api(`/v1/items/${encodeURIComponent(hit.id)}`, { method: "PATCH", json: { tags } });
    hit.tags = item.tags;
    if (current === hit) renderMeta({ ...item, duplicates: hit.duplicates });
    announce(`Tags saved: ${item.tags.join(", ") || "none"}.`);
  } catch (error) {
    announce(`Could not save the tags: ${error.message}`, { error: true });
  }
}

let deleteArmed = null;

/** Delete the item shown (a second press confirms), then step to a neighbour or close. */
async function deleteCurrent() {
  const button = $("detail-delete");
  if (!deleteArmed) {
    button.textContent = "Really delete?";
    deleteArmed = setTimeout(() => {
      deleteArmed = null;
      button.textContent = "Delete";
    }, 4000);
    return;
  }
  clearTimeout(deleteArmed);
  deleteArmed = null;
  button.textContent = "Delete";
  const hit = current;
  try {
    await api(`/v1/items/${encodeURIComponent(hit.id)}`, { method: "DELETE" });
  } catch (error) {
    announce(`Could not delete: ${error.message}`, { error: true });
    return;
  }
  const list = listOf();
  const at = position(hit);
  const next = list[at + 1] || list[at - 1]; // before the list loses the deleted item
  onDeleted(hit.id);
  announce(`Deleted ${hitLabel(hit)}.`);
  if (next && next.id !== hit.id) openDetail(next);
  else $("detail").close();
}

let onDeleted = () => {};

export function initDetail({ deleted = () => {} } = {}) {
  onDeleted = deleted;
  $("detail-tags-form").addEventListener("submit", saveTags);
  $("detail-delete").addEventListener("click", deleteCurrent);
  const dialog = $("detail");
  $("detail-close").addEventListener("click", () => dialog.close());
  $("detail-similar").addEventListener("click", moreLikeThis);
  // A click on the backdrop (outside the panel) closes too.
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close();
  });
  $("detail-prev").addEventListener("click", () => step(-1));
  $("detail-next").addEventListener("click", () => step(1));
  dialog.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest("input, textarea, #similar")) return;
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      step(e.key === "ArrowLeft" ? -1 : 1);
    }
  });
  dialog.addEventListener("close", () => {
    // Back to the tile of the item last shown (it may differ from the one opened).
    const shown = current && document.querySelector(`#results li[data-id="${CSS.escape(current.id)}"] .tile`);
    current = null;
    const target = shown || (opener && opener.isConnected ? opener : $("q"));
    opener = null;
    target.focus();
  });
}
