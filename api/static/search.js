// The search view: text box, image query (drop, paste, pick), hybrid weight, filters, results.

import { api } from "./api.js";
import { openDetail } from "./detail.js";
import { initGridKeys } from "./keys.js";
import { onReconnect } from "./net.js";
import { initSelect, resultsChanged, selecting, toggle } from "./select.js";
import { announce, resultCard } from "./ui.js";

const PAGE = 24;
const DEBOUNCE_MS = 250;

const $ = (id) => document.getElementById(id);

const state = {
  image: null, // File
  imageUrl: null,
  seq: 0, // the newest query; older answers are dropped
  nextOffset: null,
  loading: false,
  controller: null, // aborts the request a newer query supersedes
  hits: [], // shown, in display order (matches first): the detail view steps through them
  total: null,
  totalMatches: null,
  capped: false,
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
  const after = $("taken-after").value; // YYYY-MM-DD or ""
  const before = $("taken-before").value;
  if (tags.length || modality || after || before) {
    opts.filter = {};
    if (tags.length) opts.filter.tags = tags;
    if (modality) opts.filter.modality = modality;
    if (after) opts.filter.taken_after = `${after}T00:00:00Z`;
    if (before) opts.filter.taken_before = `${before}T23:59:59.999Z`;
  }
  if (state.image && queryText()) {
    const w = textWeight();
    opts.weights = { text: w, image: Math.round((1 - w) * 100) / 100 };
  }
  return opts;
}

const browsing = () => !queryText() && !state.image;

/** No query: browse the library (or the tags typed), by the date taken. */
function browseRequest(offset, signal) {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset), order: $("order").value });
  for (const tag of $("tags").value.split(",").map((t) => t.trim()).filter(Boolean)) params.append("tag", tag);
  if ($("taken-after").value) params.set("taken_after", `${$("taken-after").value}T00:00:00Z`);
  if ($("taken-before").value) params.set("taken_before", `${$("taken-before").value}T23:59:59.999Z`);
  return api(`/v1/items?${params}`, { signal });
}

function request(offset, signal) {
  const text = queryText();
  if (browsing()) return browseRequest(offset, signal);
  if (!state.image) {
    return api("/v1/search", { method: "POST", json: { text, ...options(offset) }, signal });
  }
  const form = new FormData();
  form.append("file", state.image, state.image.name || "query.png");
  if (text) form.append("text", text);
  form.append("options", JSON.stringify(options(offset)));
  return api("/v1/search/image", { method: "POST", form, signal });
}

function clearResults() {
  $("matches").replaceChildren();
  $("others").replaceChildren();
  $("others-title").hidden = true;
  $("results").classList.remove("weak", "stale");
  state.hits = [];
  resultsChanged(false);
}

function setSummary(text, { busy = false, error = false } = {}) {
  const summary = $("summary");
  summary.textContent = text;
  summary.classList.toggle("busy", busy);
  summary.classList.toggle("error", error);
}

/** What is on screen no longer answers the query in the box: dim it until the answer comes. */
export function markStale() {
  if ($("matches").children.length || $("others").children.length) {
    $("results").classList.add("stale");
  }
}

function setNext(offset) {
  state.nextOffset = offset;
  $("more").hidden = offset == null;
}

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

function kindWord() {
  const modality = $("modality").value;
  if (modality === "image" || state.hits.every((h) => h.modality === "image")) return "photo";
  return modality === "text" ? "text" : "item";
}

function describe(result) {
  if (browsing()) {
    const tags = $("tags").value.trim();
    const where = tags ? `tagged ${tags}` : "in the library";
    const order = $("order").value === "asc" ? "oldest first" : "newest first";
    return `${plural(state.total ?? state.hits.length, kindWord())} ${where}, ${order} by date taken`;
  }
  const what = state.image ? (queryText() ? "text + image" : "image") : "text";
  const kind = kindWord();
  const total = state.total ?? state.hits.length;
  const timing = `${what} search · ${Math.round(result.took_ms)} ms`;
  if (state.totalMatches == null) return `${plural(total, kind)}, most similar first · ${timing}`;
  const matches = `${state.totalMatches.toLocaleString()}${state.capped ? "+" : ""}`;
  return `${matches} ${state.totalMatches === 1 && !state.capped ? "match" : "matches"} among ${plural(total, kind)} · ${timing}`;
}

/** Run the current query from the top (append=false) or fetch its next page. */
export async function runSearch({ append = false } = {}) {
  if (append && (state.loading || state.nextOffset == null)) return;
  if (!append) {
    state.seq += 1;
    state.controller?.abort();
  }
  const seq = state.seq;
  syncUrl();
  $("order-row").hidden = !browsing();
  $("hint").hidden = !browsing();
  const controller = new AbortController();
  state.controller = controller;
  state.loading = true;
  $("results").setAttribute("aria-busy", "true");
  if (!append) {
    markStale();
    setSummary("Searching…", { busy: true });
  }
  try {
    const result = await request(append ? state.nextOffset : 0, controller.signal);
    if (seq !== state.seq) return;
    render(result, append);
  } catch (error) {
    if (seq !== state.seq || error.name === "AbortError") return;
    failed(error, append);
  } finally {
    if (seq === state.seq) {
      state.loading = false;
      $("results").removeAttribute("aria-busy");
    }
  }
}

function failed(error, append) {
  // Whatever is still shown answered an older query (or the same one before the failure).
  markStale();
  if (!append) setNext(null);
  const shown = $("matches").children.length + $("others").children.length;
  const tail = shown ? " The results shown are from before." : "";
  setSummary(`Search failed: ${error.message}${tail}`, { error: true });
  announce(`Search failed: ${error.message}`, { error: true });
}

function render(result, append) {
  if (!append) {
    clearResults();
    state.total = result.total;
    state.totalMatches = result.total_matches;
    state.capped = result.matches_capped;
  }
  $("results").classList.remove("stale");
  for (const hit of result.hits) {
    state.hits.push(hit);
    const list = hit.match === "none" ? $("others") : $("matches");
    list.append(resultCard(hit, (h) => (selecting() ? toggle(h) : openDetail(h, { list: () => state.hits }))));
  }
  const count = state.hits.length;
  state.took = result.took_ms;
  resultsChanged(count > 0);
  const weak = result.no_good_match && count > 0;
  $("results").classList.toggle("weak", weak);
  $("nomatch").hidden = !weak;
  $("hint").hidden = !browsing();
  setNext(result.next_offset);
  updateDivider(weak);
  const empty = browsing() && !$("tags").value.trim() ? "No photos yet: add some in Upload." : "Nothing matches these filters.";
  const summary = count ? describe(result) : empty;
  setSummary(summary);
  if (!append) {
    announce(weak ? `${summary}. No good match: showing the nearest items.` : summary, { quiet: true });
  }
}

function updateDivider(weak) {
  const others = $("others").children.length;
  const title = $("others-title");
  title.hidden = !(others && !weak);
  if (state.total != null && state.totalMatches != null) {
    const rest = Math.max(0, state.total - state.totalMatches);
    const kind = kindWord() === "photo" ? "photos" : "items";
    title.textContent = `Other ${kind} · ${rest.toLocaleString()}`;
  }
}

/** An item was deleted: take it off the page and out of the counts. */
export function forgetItem(id) {
  const at = state.hits.findIndex((h) => h.id === id);
  if (at < 0) return;
  const [hit] = state.hits.splice(at, 1);
  document.querySelector(`#results li[data-id="${CSS.escape(id)}"]`)?.remove();
  if (state.total != null) state.total -= 1;
  if (state.totalMatches != null && hit.match && hit.match !== "none") state.totalMatches -= 1;
  updateDivider($("results").classList.contains("weak"));
  setSummary(state.hits.length ? describe({ took_ms: state.took || 0 }) : "Nothing left here.");
  resultsChanged(state.hits.length > 0);
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
    markStale();
    later();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    later.cancel();
    runSearch();
  });
  for (const id of ["tags", "modality", "taken-after", "taken-before"]) {
    $(id).addEventListener("change", () => runSearch());
  }
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

  initSelect({ deleted: forgetItem });
  initGridKeys($("results"), {
    onSlash: () => {
      if (!isActive()) location.hash = "#search";
      $("q").focus();
      $("q").select();
    },
  });
  onReconnect(() => {
    if (isActive() && (queryText() || state.image)) runSearch();
  });

  const initial = new URL(location.href).searchParams.get("q");
  if (initial) $("q").value = initial;
  runSearch(); // with no query: the newest photos
  $("order").addEventListener("change", () => runSearch());
}
