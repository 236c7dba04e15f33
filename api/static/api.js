// The HTTP edge of the page: every call to the Loupe API goes through here.

import { markOffline, markOnline } from "./net.js";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

// The API key of this tab (any scope; the admin form sets it too): sessionStorage only.
const TOKEN_KEY = "loupe.adminToken";

export const adminToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || "",
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

function authHeaders() {
  const key = adminToken.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** After a 401 (the server needs a key): ask for one. True when one was given. */
function askForKey(message) {
  const key = window.prompt(`${message}\n\nThis Loupe needs an API key (kept in this tab only):`);
  if (!key || !key.trim()) return false;
  adminToken.set(key.trim());
  return true;
}

/** Point an <img> at an API image; with a key, fetched with it (an <img> sends no headers). */
export function setImageSource(img, url) {
  if (!adminToken.get()) {
    img.src = url;
    return;
  }
  fetch(url, { headers: authHeaders() })
    .then((response) => (response.ok ? response.blob() : null))
    .then((blob) => {
      if (!blob) return;
      const local = URL.createObjectURL(blob);
      img.addEventListener("load", () => URL.revokeObjectURL(local), { once: true });
      img.src = local;
    })
    .catch(() => {});
}

async function errorFrom(response) {
  let type = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      type = body.error.type || type;
      message = body.error.message || message;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, type, message);
}

/** fetch + JSON; throws ApiError with the API's {"error": {type, message}} on 4xx/5xx.
 *  A 401 asks for a key once and retries (not for admin calls: the admin form asks).
 *  ``signal`` aborts it (an AbortError, not an ApiError); a network failure marks the page
 *  offline (net.js) and any answer marks it online. */
export async function api(path, { method = "GET", json, form, admin = false, retried = false, signal } = {}) {
  const headers = authHeaders();
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    markOffline();
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  markOnline();
  if (response.status === 401 && !admin && !retried) {
    const error = await errorFrom(response);
    if (!askForKey(error.message)) throw error;
    return api(path, { method, json, form, admin, retried: true, signal });
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

/** POST a FormData with upload progress (fetch has none). Resolves to the JSON body. */
export function postWithProgress(path, form, onProgress, retried = false) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const error = (body && body.error) || {};
      if (xhr.status === 401 && !retried && askForKey(error.message || "HTTP 401")) {
        return resolve(postWithProgress(path, form, onProgress, true));
      }
      reject(new ApiError(xhr.status, error.type || "http_error", error.message || `HTTP ${xhr.status}`));
    });
    xhr.addEventListener("error", () => {
      markOffline();
      reject(new ApiError(0, "network", "The upload failed: the server cannot be reached."));
    });
    xhr.send(form);
  });
}

export const FINAL_STATES = new Set(["succeeded", "partial", "failed", "cancelled"]);

/** Poll a job until it reaches a final state, calling onUpdate with each snapshot. */
export async function watchJob(jobId, onUpdate, intervalMs = 500) {
  for (;;) {
    const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
    onUpdate(job);
    if (FINAL_STATES.has(job.state)) return job;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
