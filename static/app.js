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
  // ...and the buttons they replace are hidden.
  for (const el of document.querySelectorAll("[data-no-js]")) {
    el.hidden = true;
  }

  // A select marked data-autosubmit (the project switcher, the issue list's
  // filters) submits its form when changed; a search field marked so submits
  // when cleared (typing submits on Enter, as without JavaScript).
  document.addEventListener("change", (event) => {
    const select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
  document.addEventListener("search", (event) => {
    const field = event.target.closest && event.target.closest("input[type=search][data-autosubmit]");
    if (field && field.form && field.value === "") field.form.submit();
  });

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

// Uploads: drag-and-drop onto [data-drop-zone] (files or a whole build
// folder) fills the form's file inputs, and forms marked [data-upload] are
// sent with XMLHttpRequest to show a progress bar. Listeners are delegated
// from the document, so they keep working when an answer replaces the page
// body. Without JavaScript the same forms post normally.
(() => {
  "use strict";

  const isMap = (f) => /\.(map|json)$/i.test(f.name);
  const isScript = (f) => /\.(m?js|cjs)$/i.test(f.name);

  // filesOf walks dropped folders (Chromium and Firefox expose entries).
  async function filesOf(items) {
    const out = [];
    const walk = async (entry) => {
      if (entry.isFile) {
        out.push(await new Promise((ok, fail) => entry.file(ok, fail)));
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
          if (batch.length === 0) break;
          for (const e of batch) await walk(e);
        }
      }
    };
    const entries = [];
    for (const item of items) {
      const entry = item.webkitGetAsEntry && item.webkitGetAsEntry();
      if (entry) entries.push(entry);
    }
    for (const e of entries) await walk(e);
    return out;
  }

  function setFiles(input, files) {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(f);
    input.files = dt.files;
  }

  function showChosen(zone) {
    let note = zone.querySelector(".chosen");
    if (!note) {
      note = document.createElement("p");
      note.className = "chosen";
      zone.append(note);
    }
    const names = [];
    for (const input of zone.querySelectorAll("input[type=file]")) {
      for (const f of input.files) names.push(f.name);
    }
    note.textContent = names.length ? "Chosen: " + names.join(", ") : "";
  }

  const zoneOf = (e) => e.target.closest && e.target.closest("[data-drop-zone]");

  document.addEventListener("dragover", (e) => {
    const zone = zoneOf(e);
    if (!zone) return;
    e.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", (e) => {
    const zone = zoneOf(e);
    if (zone) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", async (e) => {
    const zone = zoneOf(e);
    if (!zone) return;
    e.preventDefault();
    zone.classList.remove("dragging");
    let files = await filesOf(e.dataTransfer.items || []);
    if (files.length === 0) files = Array.from(e.dataTransfer.files || []);
    const many = zone.querySelector("input[type=file][multiple]");
    if (many) {
      setFiles(many, files.filter((f) => isMap(f) || isScript(f)));
    } else {
      const map = zone.querySelector("input[name=source_map]");
      const minified = zone.querySelector("input[name=minified]");
      const maps = files.filter(isMap);
      const scripts = files.filter(isScript);
      if (map && maps.length) setFiles(map, maps.slice(0, 1));
      if (minified && scripts.length) setFiles(minified, scripts.slice(0, 1));
    }
    showChosen(zone);
  });
  document.addEventListener("change", (e) => {
    const zone = zoneOf(e);
    if (zone) showChosen(zone);
  });

  // showPage puts an answer that is a page (a refusal, or the pairing to
  // confirm) in place of the current one.
  function showPage(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    for (const el of document.querySelectorAll("[data-js-only]")) el.hidden = false;
    window.scrollTo(0, 0);
  }

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!form.matches || !form.matches("form[data-upload]") || !window.FormData) return;
    e.preventDefault();
    const progress = form.querySelector("[data-upload-progress]");
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    if (progress) {
      progress.hidden = false;
      xhr.upload.addEventListener("progress", (p) => {
        if (p.lengthComputable) progress.value = Math.round((p.loaded / p.total) * 100);
      });
    }
    xhr.addEventListener("load", () => {
      // A redirect (303 after success) was followed: go where it pointed.
      if (xhr.responseURL && xhr.responseURL !== form.action) {
        window.location.assign(xhr.responseURL);
        return;
      }
      showPage(xhr.responseText);
    });
    xhr.addEventListener("error", () => {
      if (button) button.disabled = false;
      if (progress) progress.hidden = true;
      window.alert("The upload failed: the server could not be reached. Try again.");
    });
    xhr.send(new FormData(form));
  });
})();
