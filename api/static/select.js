// Several results at once: "Select" turns tile clicks into picks; the bar tags or deletes them.

import { api } from "./api.js";
import { announce } from "./ui.js";

const $ = (id) => document.getElementById(id);
const picked = new Set();
let on = false;
let afterDelete = () => {};

export const selecting = () => on;

function tileOf(id) {
  return document.querySelector(`#results li[data-id="${CSS.escape(id)}"] .tile`);
}

function refresh() {
  $("select-count").textContent = `${picked.size} selected`;
  $("select-add-tag").disabled = !picked.size;
  $("select-delete").disabled = !picked.size;
}

function setMode(value) {
  on = value;
  $("select-toggle").setAttribute("aria-pressed", String(on));
  $("select-toggle").textContent = on ? "Done" : "Select";
  $("select-bar").hidden = !on;
  $("results").classList.toggle("selecting", on);
  for (const tile of document.querySelectorAll("#results .tile")) {
    if (on) tile.setAttribute("aria-pressed", String(picked.has(tile.closest("li").dataset.id)));
    else tile.removeAttribute("aria-pressed");
  }
  if (!on) picked.clear();
  refresh();
}

/** A tile was clicked in select mode: pick it or put it back. */
export function toggle(hit) {
  if (picked.has(hit.id)) picked.delete(hit.id);
  else picked.add(hit.id);
  tileOf(hit.id)?.setAttribute("aria-pressed", String(picked.has(hit.id)));
  refresh();
}

/** New results: keep the mode, forget picks that are no longer shown. */
export function resultsChanged(hasResults) {
  $("select-toggle").hidden = !hasResults;
  for (const id of [...picked]) if (!tileOf(id)) picked.delete(id);
  if (on) setMode(true);
}

async function addTag() {
  const tag = $("select-tag").value.trim();
  if (!tag || !picked.size) return;
  try {
    const result = await api("/v1/items/bulk/tags", { method: "POST", json: { ids: [...picked], add_tags: [tag] } });
    announce(`Tag “${tag}” added to ${result.changed.length} item${result.changed.length === 1 ? "" : "s"}.`);
    $("select-tag").value = "";
  } catch (error) {
    announce(`Could not add the tag: ${error.message}`, { error: true });
  }
}

let armed = null;

async function deletePicked() {
  const button = $("select-delete");
  if (!armed) {
    button.textContent = `Really delete ${picked.size}?`;
    armed = setTimeout(() => {
      armed = null;
      button.textContent = "Delete selected";
    }, 4000);
    return;
  }
  clearTimeout(armed);
  armed = null;
  button.textContent = "Delete selected";
  try {
    const result = await api("/v1/items/bulk/delete", { method: "POST", json: { ids: [...picked] } });
    for (const id of result.changed) {
      picked.delete(id);
      afterDelete(id);
    }
    announce(`Deleted ${result.changed.length} item${result.changed.length === 1 ? "" : "s"}.`);
    refresh();
  } catch (error) {
    announce(`Could not delete: ${error.message}`, { error: true });
  }
}

export function initSelect({ deleted }) {
  afterDelete = deleted;
  $("select-toggle").addEventListener("click", () => setMode(!on));
  $("select-add-tag").addEventListener("click", addTag);
  $("select-tag").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      addTag();
    }
  });
  $("select-delete").addEventListener("click", deletePicked);
  refresh();
}
