// stacklens: small enhancements. Every page works without this file; it
// only adds copy buttons, expand/collapse-all for frames, and remembers the
// "show all frames" choice.
(() => {
  "use strict";

  const SHOW_ALL_KEY = "stacklens.showAllFrames";

  // Controls that need JavaScript are rendered hidden.
  for (const el of document.querySelectorAll("[data-js-only]")) {
    el.hidden = false;
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http on a LAN address has no clipboard API.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  async function onCopy(button) {
    const target = document.getElementById(button.dataset.copy);
    if (!target) return;
    const label = button.querySelector("span") || button;
    const before = label.textContent;
    try {
      await copyText(target.textContent);
      label.textContent = "Copied";
    } catch {
      label.textContent = "Copy failed";
    }
    setTimeout(() => { label.textContent = before; }, 1500);
  }

  function setFrames(button, open) {
    const stack = button.closest(".stack") || document;
    for (const d of stack.querySelectorAll("details.frame-details")) {
      d.open = open;
    }
  }

  document.addEventListener("click", (event) => {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      onCopy(copy);
      return;
    }
    const frames = event.target.closest("[data-frames]");
    if (frames) {
      setFrames(frames, frames.dataset.frames === "expand");
    }
  });

  const showAll = document.getElementById("show-all-frames");
  if (showAll) {
    try {
      showAll.checked = localStorage.getItem(SHOW_ALL_KEY) === "1";
      showAll.addEventListener("change", () => {
        localStorage.setItem(SHOW_ALL_KEY, showAll.checked ? "1" : "0");
      });
    } catch {
      // Storage may be disabled; the checkbox still works for this page.
    }
  }
})();
