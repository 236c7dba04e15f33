// Small DOM helpers shared by the views.

import { setImageSource } from "./api.js";

/** el("div.card", {title: "x", onclick: fn}, child, "text", ...) */
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const node = document.createElement(tag);
  if (classes.length) node.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

let statusTimer = null;

/** Say something to screen readers and show it briefly in the status toast. */
/** Say ``message`` in the live region: a toast people see, or with ``quiet`` only to screen
 * readers (a search's summary, already shown above the results, would cover the grid). */
export function announce(message, { error = false, quiet = false } = {}) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.classList.toggle("error", error);
  status.classList.toggle("quiet", quiet && !error);
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    status.textContent = "";
  }, error ? 8000 : 4000);
}

export function formatBytes(n) {
  if (n == null) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(epoch) {
  return epoch ? new Date(epoch * 1000).toLocaleString() : "–";
}

export function hitLabel(hit) {
  if (hit.filename) return hit.filename;
  if (hit.text) return hit.text.length > 60 ? `${hit.text.slice(0, 57)}…` : hit.text;
  return hit.id;
}

/** The alt text the enrichers built (text read, people, objects, colours), in the page's
 * language when there is one in it; "" when nothing was seen. */
export function altText(hit) {
  const alt = hit.alt || (hit.enrich && hit.enrich.alt) || {};
  const zh = (document.documentElement.lang || "").toLowerCase().startsWith("zh");
  return (zh ? alt.zh || alt.en : alt.en || alt.zh) || "";
}

/** Why a hit matched beyond its vectors: "read 'EXIT 4'", "person", "blue". */
export function seenWords(hit) {
  return (hit.seen || []).map((s) =>
    s.kind === "text" || s.kind === "writing" ? `read “${s.detail || s.value}”` : s.value);
}

/** The query concepts a hit matched (fused text search): "tabby cat · 猫 (0.62)". */
export function whyWords(hit) {
  return (hit.why || []).map((w) => `${w.name}${w.name_zh ? ` · ${w.name_zh}` : ""} (${w.weight.toFixed(2)})`);
}

const MATCH_WORDS = { strong: "strong match", weak: "match", none: "not a match" };

/** Words a screen reader says for a tile: its name, what the enrichers saw (alt text), how
 * well it matches, its tags. */
export function describeHit(hit) {
  const words = [hitLabel(hit), altText(hit)].filter(Boolean).join(": ");
  const match = MATCH_WORDS[hit.match];
  const tags = hit.tags && hit.tags.length ? `tags ${hit.tags.join(", ")}` : null;
  return [words, match, tags].filter(Boolean).join(", ");
}

/** One result tile: a button holding a thumbnail (or a text card) and its name. No raw score:
 * the calibrated match (strong / match / not a match) is the one scale a person can read. */
export function resultCard(hit, onOpen) {
  const label = hitLabel(hit);
  let visual = el("p.text-card", {}, hit.text || "(text)");
  if (hit.thumbnail_url) {
    visual = el("img", { alt: altText(hit), loading: "lazy", decoding: "async" });
    setImageSource(visual, hit.thumbnail_url);
  }
  const badge = hit.match === "strong" || hit.match === "weak"
    ? el(`span.match.${hit.match}`, { "aria-hidden": "true" }, hit.match === "strong" ? "strong match" : "match")
    : null;
  return el(
    "li.result",
    { dataset: { id: hit.id, filename: hit.filename || "", match: hit.match || "" } },
    el(
      "button.tile",
      {
        type: "button",
        title: [label, ...whyWords(hit)].join("\n"),
        "aria-label": describeHit(hit),
        onclick: () => onOpen(hit),
      },
      visual,
      el("span.caption", {}, el("span.name", {}, label), badge),
    ),
  );
}

/** A progress bar with an accessible label. */
export function progressBar(label) {
  return el("progress", { max: 1, value: 0, "aria-label": label });
}
