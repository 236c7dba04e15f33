// Entry point: wires the views together and switches between them with the URL hash.

import { enterAdmin, initAdmin } from "./admin.js";
import { initDetail } from "./detail.js";
import { initJobs, refreshJobs } from "./jobs.js";
import { initNet } from "./net.js";
import { forgetItem, initSearch } from "./search.js";
import { initUpload } from "./upload.js";

const VIEWS = ["search", "upload", "jobs", "admin"];
let current = null;

function viewFromHash() {
  const name = location.hash.replace(/^#/, "");
  return VIEWS.includes(name) ? name : "search";
}

function show(name) {
  if (name === current) return;
  current = name;
  for (const view of VIEWS) {
    document.getElementById(`view-${view}`).hidden = view !== name;
    const link = document.querySelector(`nav a[href="#${view}"]`);
    if (view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = name === "search" ? "Loupe" : `Loupe · ${name[0].toUpperCase()}${name.slice(1)}`;
  if (name === "jobs") refreshJobs();
  if (name === "admin") enterAdmin();
  if (name === "search") document.getElementById("q").focus();
}

function start() {
  initNet();
  initDetail({ deleted: forgetItem });
  initSearch({ isActive: () => current === "search" });
  initUpload({
    jobStarted: () => {
      if (current === "jobs") refreshJobs();
    },
  });
  initJobs({ active: () => current === "jobs" });
  initAdmin();
  // A file dropped outside a drop zone must not replace the page.
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (e) => e.preventDefault());
  window.addEventListener("hashchange", () => show(viewFromHash()));
  show(viewFromHash());
}

start();
