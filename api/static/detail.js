// The detail dialog: the original, its metadata, and "more like this".

import { api, setImageSource } from "./api.js";
import { announce, el, formatBytes, formatTime, hitLabel, resultCard } from "./ui.js";

const $ = (id) => document.getElementById(id);
let opener = null;
let current = null;

function row(term, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) {
    return [];
  }
  return [el("dt", {}, term), el("dd", {}, Array.isArray(value) ? value.join(", ") : String(value))];
}

function renderMeta(item) {
  const meta = Object.entries(item.metadata || {}).flatMap(([k, v]) => row(k, typeof v === "object" ? JSON.stringify(v) : v));
  $("detail-meta").replaceChildren(
    ...row("File", item.filename),
    ...row("Type", item.mime || item.modality),
    ...row("Size", item.size != null ? formatBytes(item.size) : null),
    ...row("Dimensions", item.width ? `${item.width} × ${item.height}` : null),
    ...row("Tags", item.tags),
    ...row("Added", item.created_at ? formatTime(item.created_at) : null),
    ...row("Model", item.model_id),
    ...row("Duplicates", item.duplicates),
    ...meta,
    ...row("Id", item.id),
  );
}

function renderMedia(hit) {
  let media = el("blockquote.text-full", {}, hit.text || "");
  if (hit.modality === "image") {
    media = el("img", { alt: hitLabel(hit) });
    setImageSource(media, hit.original_url);
  }
  $("detail-media").replaceChildren(media);
}

/** Show one item in the dialog (opening it if needed). */
export async function openDetail(hit) {
  const dialog = $("detail");
  if (!dialog.open) {
    opener = document.activeElement;
    dialog.showModal();
  }
  current = hit;
  $("detail-title").textContent = hitLabel(hit);
  $("detail-original").href = hit.original_url;
  $("similar-section").hidden = true;
  $("similar").replaceChildren();
  $("detail-similar").disabled = false;
  renderMedia(hit);
  renderMeta(hit);
  $("detail-close").focus();
  try {
    const item = await api(`/v1/items/${encodeURIComponent(hit.id)}`);
    if (current === hit) renderMeta({ ...item, duplicates: hit.duplicates });
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
    const cards = result.hits.map((h) => resultCard(h, openDetail));
    $("similar").replaceChildren(...cards);
    $("similar-section").hidden = false;
    $("similar-heading").textContent = cards.length ? "More like this" : "Nothing similar yet";
    announce(`${cards.length} similar item${cards.length === 1 ? "" : "s"}`);
  } catch (error) {
    $("detail-similar").disabled = false;
    announce(`"More like this" failed: ${error.message}`, { error: true });
  }
}

export function initDetail() {
  const dialog = $("detail");
  $("detail-close").addEventListener("click", () => dialog.close());
  $("detail-similar").addEventListener("click", moreLikeThis);
  // A click on the backdrop (outside the panel) closes too.
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    current = null;
    const target = opener && opener.isConnected ? opener : $("q");
    opener = null;
    target.focus();
  });
}
