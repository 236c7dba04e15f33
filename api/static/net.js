// Is the server there? One banner, shown from the first failed request until the server
// answers again (checked every few seconds, or at once with Retry); then the views refresh.

const CHECK_MS = 3000;
const listeners = new Set();
let offline = false;
let timer = null;

function banner() {
  return document.getElementById("offline");
}

async function check() {
  clearTimeout(timer);
  timer = null;
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    if (response.ok) {
      markOnline();
      return;
    }
  } catch {
    // still unreachable
  }
  if (offline) timer = setTimeout(check, CHECK_MS);
}

/** A request could not reach the server: show the banner (once) and start checking. */
export function markOffline() {
  if (offline) return;
  offline = true;
  banner().hidden = false;
  document.body.classList.add("is-offline");
  timer = setTimeout(check, CHECK_MS);
}

/** The server answered: hide the banner and tell the views (they re-run what they show). */
export function markOnline() {
  if (!offline) return;
  offline = false;
  clearTimeout(timer);
  timer = null;
  banner().hidden = true;
  document.body.classList.remove("is-offline");
  for (const listener of listeners) listener();
}

export const isOffline = () => offline;

/** Call ``listener`` each time the server is reachable again. */
export function onReconnect(listener) {
  listeners.add(listener);
}

export function initNet() {
  document.getElementById("offline-retry").addEventListener("click", () => {
    document.getElementById("offline-text").textContent = "Checking the server…";
    check().finally(() => {
      document.getElementById("offline-text").textContent = OFFLINE_TEXT;
    });
  });
}

export const OFFLINE_TEXT = "The Loupe server cannot be reached. What is on screen may be out of date.";
