// Live preview of the HTML, SVG and Mermaid a reply writes. Code blocks the server marked data-preview get a Preview
// button (added by streaming_markdown.js through chatPreview.addButton); the preview opens in a panel beside the chat
// (full screen on a phone), with tabs Preview / Code, reload and "open in a new tab".
//
// Isolation is the point: the code runs in <iframe sandbox="allow-scripts"> (never with allow-same-origin, so its
// origin is opaque: it cannot read this page, its storage or its cookies; no forms, popups, top navigation or
// downloads) from srcdoc, and the document starts with a Content-Security-Policy that forbids every network request,
// this server included. Only inline script and style, and data:/blob: images, are allowed.
(() => {
  const FRAME_POLICY = [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    "img-src data: blob:",
    "font-src data:",
    "media-src data: blob:",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
  const UPDATE_MS = 250;  // while the model writes, the preview follows at most this often
  const stateKey = () => "chat-preview:" + location.pathname;  // open or closed, per conversation (its URL)
  let panel = null, frame = null, codeView = null, title = null, bound = null, shown = null, timer = null;
  let scroll = [0, 0], lastGood = "";

  const escapeHTML = (text) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  // The frame's document: our policy first, before anything the model wrote, so it holds from the first byte. A
  // small script of ours reports the scroll position (numbers only), so an update can keep it.
  function frameDocument(kind, body, at) {
    const head =
      `<!doctype html><meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
      `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<script>addEventListener("load",()=>scrollTo(${Number(at[0]) || 0},${Number(at[1]) || 0}));` +
      `addEventListener("scroll",()=>parent.postMessage({previewScroll:[scrollX,scrollY]},"*"),{passive:true});</script>`;
    if (kind === "html") return head + body;
    const fit = "<style>html,body{margin:0;padding:8px;background:#fff}svg{max-width:100%;height:auto}</style>";
    return head + fit + body;  // an SVG (a Mermaid drawing is one): parsed as HTML, where a half-written one is fine
  }

  function sourceOf(block) {
    return block?.querySelector("pre code")?.textContent ?? "";
  }

  // The block is found again by its reply and its place in it: a block still being written is a new element after
  // every patch of its reply.
  let replies = 0;
  function blockFor(place) {
    const reply = place && document.querySelector(`[data-preview-key="${place.reply}"]`);
    return reply ? reply.querySelectorAll(".code-block[data-preview]")[place.index] : null;
  }

  function placeOf(block) {
    const reply = block.closest('[data-role="assistant"]');
    if (!reply) return null;
    reply.dataset.previewKey ||= `reply-${++replies}`;
    return { reply: reply.dataset.previewKey, index: [...reply.querySelectorAll(".code-block[data-preview]")].indexOf(block) };
  }

  // Still being written: its fence is open, or it is in the part of a reply the server may still change.
  const writing = (block) => block.dataset.fence === "open" || !!block.closest(".md-part:last-child");

  async function bodyFor(block) {
    const kind = block.dataset.preview, source = sourceOf(block);
    if (kind !== "mermaid") return source;
    try {
      lastGood = await window.chatDrawMermaid(source);
    } catch (error) {
      // A diagram still being written is not broken yet: keep the last drawing instead of flashing an error.
      if (writing(block) && lastGood) return lastGood;
      if (writing(block)) return "<p style='font:14px sans-serif;color:#666'>Drawing…</p>";
      return `<pre style="white-space:pre-wrap;font:13px monospace">${escapeHTML("Could not draw this diagram: " + String(error?.message || error).slice(0, 300))}</pre>`;
    }
    return lastGood;
  }

  async function render(force) {
    const block = blockFor(bound);
    if (!block) return;
    const source = sourceOf(block) + "\u0000" + block.dataset.preview + (writing(block) ? "…" : "");
    if (!force && source === shown) return;
    shown = source;
    const kind = block.dataset.preview === "html" ? "html" : "svg";
    const body = await bodyFor(block);
    codeView.textContent = sourceOf(block);
    title.textContent = `${block.dataset.lang} preview`;
    frame.srcdoc = frameDocument(kind, body, scroll);
    window.chatPreview.renders += 1;  // (counted for the browser tests)
    markButtons();
  }

  function build() {
    panel = document.createElement("aside");
    panel.className = "preview-panel";
    panel.dataset.role = "preview";
    panel.setAttribute("aria-label", "Preview");
    panel.hidden = true;
    panel.innerHTML =
      '<div class="preview-bar">' +
      '<div role="tablist" aria-label="Preview or code">' +
      '<button type="button" role="tab" aria-selected="true" data-tab="preview">Preview</button>' +
      '<button type="button" role="tab" aria-selected="false" data-tab="code">Code</button></div>' +
      '<span class="preview-title"></span>' +
      '<button type="button" class="preview-action" data-act="reload" aria-label="Reload the preview" title="Reload">⟳</button>' +
      '<button type="button" class="preview-action" data-act="tab" aria-label="Open the preview in a new tab" title="Open in a new tab">↗</button>' +
      '<button type="button" class="preview-action" data-act="close" aria-label="Close the preview" title="Close">✕</button>' +
      "</div>" +
      '<iframe title="Preview" sandbox="allow-scripts" referrerpolicy="no-referrer"></iframe>' +
      '<pre class="preview-code" hidden></pre>';
    frame = panel.querySelector("iframe");
    codeView = panel.querySelector(".preview-code");
    title = panel.querySelector(".preview-title");
    panel.addEventListener("click", (event) => {
      const tab = event.target.closest("[data-tab]"), act = event.target.closest("[data-act]");
      if (tab) showTab(tab.dataset.tab);
      if (act?.dataset.act === "reload") { scroll = [0, 0]; render(true); }
      if (act?.dataset.act === "tab") openInNewTab();
      if (act?.dataset.act === "close") close();
    });
    document.body.append(panel);
    // Only our own frame's scroll reports, and only numbers, are taken.
    addEventListener("message", (event) => {
      const at = event.data?.previewScroll;
      if (event.source === frame.contentWindow && Array.isArray(at) && at.every(Number.isFinite)) scroll = at.slice(0, 2);
    });
  }

  function showTab(name) {
    for (const tab of panel.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    frame.hidden = name !== "preview";
    codeView.hidden = name !== "code";
  }

  // A page of its own (a blob: URL) that holds nothing but the same sandboxed frame under the same policy.
  function openInNewTab() {
    const page =
      `<!doctype html><meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">` +
      "<title>Preview</title><style>html,body,iframe{margin:0;border:0;width:100%;height:100%}</style>" +
      `<iframe title="Preview" sandbox="allow-scripts" srcdoc="${escapeHTML(frame.srcdoc)}"></iframe>`;
    const url = URL.createObjectURL(new Blob([page], { type: "text/html" }));
    window.open(url, "_blank", "noopener");
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  function open(block) {
    if (!panel) build();
    bound = placeOf(block);
    shown = null;
    scroll = [0, 0];
    lastGood = "";
    panel.hidden = false;
    document.body.classList.add("preview-open");
    showTab("preview");
    localStorage.setItem(stateKey(), "open");
    clearInterval(timer);
    timer = setInterval(() => render(false), UPDATE_MS);
    render(true);
  }

  function close() {
    clearInterval(timer);
    bound = null;
    if (panel) {
      panel.hidden = true;
      frame.removeAttribute("srcdoc");
    }
    document.body.classList.remove("preview-open");
    localStorage.removeItem(stateKey());
    markButtons();
  }

  function markButtons() {
    const current = blockFor(bound);
    for (const button of document.querySelectorAll(".code-preview")) {
      button.setAttribute("aria-pressed", String(!!current && button.closest(".code-block") === current));
    }
  }

  function lastPreviewable() {
    const blocks = document.querySelectorAll('[data-role="assistant"] .code-block[data-preview]');
    return blocks[blocks.length - 1] || null;
  }

  window.chatPreview = {
    renders: 0,
    addButton(block) {
      const head = block.querySelector(".code-head");
      if (!head || head.querySelector(".code-preview")) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "code-copy code-preview";
      button.textContent = "Preview";
      button.title = "Preview (Alt+Shift+P: the last one)";
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => {
        const block = button.closest(".code-block");
        if (bound && blockFor(bound) === block && !panel.hidden) close();
        else open(block);
      });
      head.querySelector(".code-copy")?.before(button) ?? head.append(button);
      // A conversation whose preview was open opens with it again, on its last previewable block.
      if (localStorage.getItem(stateKey()) === "open" && !bound) setTimeout(() => { if (!bound && lastPreviewable()) open(lastPreviewable()); }, 0);
    },
  };

  addEventListener("keydown", (event) => {
    if (event.altKey && event.shiftKey && event.code === "KeyP") {
      event.preventDefault();
      const block = lastPreviewable();
      if (block) open(block);
    }
  });
})();
