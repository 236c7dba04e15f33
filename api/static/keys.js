// Keyboard: arrow keys move between result tiles (across both lists, row by row as they are
// laid out), Home/End jump to the first/last; "/" anywhere outside a text field focuses search.

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function tiles(root) {
  return [...root.querySelectorAll(".tile")];
}

/** The tile in the next row (direction +1) or the previous one (-1) nearest in x. */
function verticalNeighbour(all, index, direction) {
  const here = all[index].getBoundingClientRect();
  const centre = here.left + here.width / 2;
  let best = null;
  let bestRow = null;
  for (let i = index + direction; i >= 0 && i < all.length; i += direction) {
    const box = all[i].getBoundingClientRect();
    const sameRow = Math.abs(box.top - here.top) < here.height / 2;
    if (sameRow) continue;
    if (bestRow !== null && Math.abs(box.top - bestRow) > here.height / 2) break;
    bestRow = box.top;
    const distance = Math.abs(box.left + box.width / 2 - centre);
    if (best === null || distance < best.distance) best = { i, distance };
  }
  return best ? best.i : index;
}

function target(all, index, key) {
  switch (key) {
    case "ArrowRight": return Math.min(all.length - 1, index + 1);
    case "ArrowLeft": return Math.max(0, index - 1);
    case "ArrowDown": return verticalNeighbour(all, index, 1);
    case "ArrowUp": return verticalNeighbour(all, index, -1);
    case "Home": return 0;
    case "End": return all.length - 1;
    default: return null;
  }
}

export function initGridKeys(root, { onSlash }) {
  root.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const tile = event.target.closest(".tile");
    if (!tile) return;
    const all = tiles(root);
    const index = all.indexOf(tile);
    const next = target(all, index, event.key);
    if (next === null) return;
    event.preventDefault();
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.altKey || event.ctrlKey || event.metaKey) return;
    const active = document.activeElement;
    if (active && (TYPING.has(active.tagName) || active.isContentEditable)) return;
    if (document.querySelector("dialog[open]")) return;
    event.preventDefault();
    onSlash();
  });
}
