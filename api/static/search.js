// The search view: text box, image query (drop, paste, pick), hybrid weight, filters, results.

import { api } from "./api.js";
import { openDetail } from "./detail.js";
import { announce, el, resultCard } from "./ui.js";

const PAGE = 24;
const DEBOUNCE_MS = 250;

const $ = (id) => document.getElementById(id);

const state = {
  image: null, // File
  imageUrl: null,
  seq: 0, // the newest query; older answers are dropped
  nextOffset: null,
  loading: false,
};

function queryText() {
  return $("q").value.trim();
}

/** The slider runs from all text (left, 0) to all image (right, 100). */
function textWeight() {
  return 1 - Number($("weight").value) / 100;
}

function options(offset) {
  const opts = { limit: PAGE, offset };
  const tags = $("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
  const modality = $("modality").value;
  if (tags.length || modality) {
    opts.filter = {};
    if (tags.length) opts.filter.tags = tags;
    if (modality) opts.filter.modality = modality;
  }
  if (state.image && queryText()) {
    const w = textWeight();
    opts.weights = { text: w, image: Math.round((1 - w) * 100) / 100 };
  }
  return opts;
}

function request(offset) {
  const text = queryText();
  if (!state.image) return api("/v1/search", { method: "POST", json: { text, ...options(offset) } });
  const form = new FormData();
  form.append("file", state.image, state.image.name || "query.png");
  if (text) form.append("text", text);
  form.append("options", JSON.stringify(options(offset)));
  return api("/v1/search/image", { method: "POST", form });
}

function showIdle() {
  $("results").replaceChildren();
  $("nomatch").hidden = true;
  $("summary").textContent = "";
  $("hint").hidden = false;
  setNext(null);
}

function setNext(offset) {
  state.nextOffset = offset;
  $("more").hidden = offset == null;
}

function describe(result, count) {
  const what = state.image ? (queryText() ? "text + image" : "image") : "text";
  return `${count} result${count === 1 ? "" : "s"} · ${what} search · ${Math.round(result.took_ms)} ms`;
}

/** Run the current query from the top (append=false) or fetch its next page. */
export async function runSearch({ append = false } = {}) {
  if (append && (state.loading || state.nextOffset == null)) return;
  if (!append) state.seq += 1;
  const seq = state.seq;
  syncUrl();
  if (!queryText() && !state.image) {
    showIdle();
    return;
  }
  state.loading = true;
  $("results").setAttribute("aria-busy", "true");
  try {
    const result = await request(append ? state.nextOffset : 0);
    if (seq !== state.seq) return;
    render(result, append);
  } catch (error) {
    if (seq !== state.seq) return;
    announce(`Search failed: ${error.message}`, { error: true });
  } finally {
    if (seq === state.seq) {
      state.loading = false;
      $("results").removeAttribute("aria-busy");
    }
  }
}

function render(result, append) {
  const grid = $("results");
  const cards = result.hits.map((hit) => resultCard(hit, openDetail));
  if (append) grid.append(...cards);
  else grid.replaceChildren(...cards);
  const weak = result.no_good_match && grid.children.length > 0;
  grid.classList.toggle("weak", weak);
  $("nomatch").hidden = !weak;
  $("hint").hidden = true;
  setNext(result.next_offset);
  const count = grid.children.length;
  const summary = count ? describe(result, count) : "Nothing matches these filters.";
  $("summary").textContent = summary;
  announce(weak ? `${summary}. No good match: showing the nearest items.` : summary);
}

function syncUrl() {
  const url = new URL(location.href);
  const text = queryText();
  if (text) url.searchParams.set("q", text);
  else url.searchParams.delete("q");
  history.replaceState(null, "", url);
}

/** Use an image file as (part of) the query. */
export function setQueryImage(file) {
  if (!file || !file.type.startsWith("image/")) {
    announce("That is not an image: drop or paste a photo to search by image.", { error: true });
    return;
  }
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.image = file;
  state.imageUrl = URL.createObjectURL(file);
  $("query-thumb").src = state.imageUrl;
  $("query-name").textContent = file.name || "pasted image";
  $("query-image").hidden = false;
  updateWeightRow();
  runSearch();
}

function clearQueryImage() {
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.image = null;
  state.imageUrl = null;
  $("query-thumb").removeAttribute("src");
  $("query-image").hidden = true;
  $("image-input").value = "";
  updateWeightRow();
  $("q").focus();
  runSearch();
}

function updateWeightRow() {
  $("weight-row").hidden = !(state.image && queryText());
  const w = Math.round(textWeight() * 100);
  $("weight-out").textContent = `text ${w}% · image ${100 - w}%`;
}

function imageFrom(dataTransfer) {
  return [...(dataTransfer?.files || [])].find((f) => f.type.startsWith("image/")) || null;
}

function debounce(fn, ms) {
  let timer;
  const debounced = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

export function initSearch({ isActive }) {
  const later = debounce(() => runSearch(), DEBOUNCE_MS);
  $("q").addEventListener("input", () => {
    updateWeightRow();
    later();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    later.cancel();
    runSearch();
  });
  for (const id of ["tags", "modality"]) $(id).addEventListener("change", () => runSearch());
  $("weight").addEventListener("input", updateWeightRow);
  $("weight").addEventListener("change", () => runSearch());
  $("pick-image").addEventListener("click", () => $("image-input").click());
  $("image-input").addEventListener("change", (e) => setQueryImage(e.target.files[0]));
  $("clear-image").addEventListener("click", clearQueryImage);
  $("more").addEventListener("click", () => runSearch({ append: true }));
  for (const button of document.querySelectorAll("[data-example]")) {
    button.addEventListener("click", () => {
      $("q").value = button.dataset.example;
      runSearch();
    });
  }

  // Drop anywhere on the search view; paste anywhere while it is shown.
  const view = $("view-search");
  let depth = 0;
  view.addEventListener("dragenter", (e) => {
    if (![...e.dataTransfer.types].includes("Files")) return;
    depth += 1;
    view.classList.add("dragging");
  });
  view.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) view.classList.remove("dragging");
  });
  view.addEventListener("dragover", (e) => e.preventDefault());
  view.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    view.classList.remove("dragging");
    const file = imageFrom(e.dataTransfer);
    if (file) setQueryImage(file);
    else announce("Drop an image file to search by image.", { error: true });
  });
  document.addEventListener("paste", (e) => {
    if (!isActive()) return;
    const file = imageFrom(e.clipboardData);
    if (file) {
      e.preventDefault();
      setQueryImage(file);
    }
  });

  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) runSearch({ append: true });
  }, { rootMargin: "400px" }).observe($("sentinel"));

  const initial = new URL(location.href).searchParams.get("q");
  if (initial) {
    $("q").value = initial;
    runSearch();
  } else {
    showIdle();
  }
}
