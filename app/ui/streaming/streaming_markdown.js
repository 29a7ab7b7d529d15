// A reply's HTML, updated by patches: finished blocks are appended once, only the unfinished tail is replaced.
// Patches reach window.chatPatch (installed by the page before any message) and wait there until this mounts.
// A second layer over the server's safe rendering: NiceGUI's page replaces Element.setHTML with DOMPurify, which
// removes scripts, event handlers and javascript: URLs but also each link's target and rel, and would keep an
// image. So after it: links open in a new tab without a referrer, and nothing that loads a resource is kept.
function setSafeHTML(element, html) {
  if (element.setHTML) element.setHTML(html);
  else element.innerHTML = html;  // the server renders markdown without raw HTML, so this is still inert
  for (const loader of element.querySelectorAll("img, picture, video, audio, source, iframe, object, embed")) {
    loader.remove();
  }
  for (const link of element.querySelectorAll("a[href]")) {
    if (link.getAttribute("href").startsWith("#")) continue;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
  }
  for (const block of element.querySelectorAll(".code-block")) {
    addCopyButton(block);
    if (block.dataset.preview) window.chatPreview?.addButton(block);  // static/preview.js
  }
}

// Every code block gets its own Copy button in its header, which copies the code alone (chatCopy: static/chat.js).
function addCopyButton(block) {
  const head = block.querySelector(".code-head"), code = block.querySelector("pre code");
  if (!head || !code) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "code-copy";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy code");
  button.addEventListener("click", async () => {
    const copied = await window.chatCopy(code.innerText);
    button.textContent = copied ? "Copied" : "Press Ctrl+C";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  head.append(button);
}

// Mermaid blocks are drawn once they are final (in the stable part: their fence has closed and a block followed,
// or the reply ended); until then they are code. The library is NiceGUI's own copy, loaded the first time a
// diagram appears, in strict mode: labels are sanitized, click handlers and scripts are off, nothing is loaded.
let mermaidReady = null, mermaidTheme = "default";
function loadMermaid() {
  mermaidReady ??= import("nicegui-mermaid").then(({ mermaid }) => {
    const dark = document.body.classList.contains("body--dark");
    mermaidTheme = dark ? "dark" : "default";
    // Labels as SVG text, never HTML in a foreignObject: a label cannot become an element that loads something.
    mermaid.initialize({
      startOnLoad: false, securityLevel: "strict", theme: mermaidTheme,
      htmlLabels: false, flowchart: { htmlLabels: false },
    });
    return mermaid;
  });
  return mermaidReady;
}

let diagrams = 0;

// For the preview panel (static/preview.js): a diagram drawn as here (strict mode, then made inert), as SVG text the
// panel shows inside its sandboxed frame. Throws on a diagram Mermaid cannot draw.
window.chatDrawMermaid = async (source) => {
  const mermaid = await loadMermaid();
  await mermaid.parse(source);
  const id = `chat-preview-diagram-${++diagrams}`;
  try {
    const { svg } = await mermaid.render(id, source);
    const holder = document.createElement("div");
    holder.append(inertDiagram(svg));
    return holder.innerHTML;
  } finally {
    document.getElementById(id)?.remove();
    document.getElementById("d" + id)?.remove();
  }
};
async function drawDiagrams(element) {
  for (const block of element.querySelectorAll('.code-block[data-lang="mermaid"]:not([data-drawn])')) {
    // This list was taken before the awaits below: a later call may have taken this block meanwhile (two
    // diagrams that became stable in one patch, and the next patch's call), and drawn it once already.
    if (block.dataset.drawn) continue;
    block.dataset.drawn = "pending";
    const source = block.querySelector("pre code").textContent;
    const id = `chat-diagram-${++diagrams}`;
    try {
      const mermaid = await loadMermaid();
      await mermaid.parse(source);  // throws on a broken diagram, before render leaves anything in the page
      const { svg } = await mermaid.render(id, source);
      const figure = document.createElement("div");
      figure.className = "mermaid-diagram";
      figure.setAttribute("role", "img");
      figure.setAttribute("aria-label", "Diagram");
      figure.dataset.theme = mermaidTheme;
      figure.append(inertDiagram(svg));
      block.querySelector("pre").before(figure);
      block.classList.add("drawn");
      block.dataset.drawn = "yes";
      addCodeToggle(block);
    } catch (error) {
      document.getElementById(id)?.remove();
      document.getElementById("d" + id)?.remove();
      const note = document.createElement("div");
      note.className = "mermaid-error";
      note.setAttribute("role", "note");
      // Mermaid's message: where it stopped (first line) and what it expected (last line), kept short.
      const lines = String(error?.message || error).split("\n").filter((line) => line.trim());
      const where = lines[0] || "", expected = lines.length > 1 ? " " + lines[lines.length - 1] : "";
      note.textContent = `Could not draw this diagram: ${(where + expected).slice(0, 200)}`;
      block.querySelector(".code-head").after(note);
      block.dataset.drawn = "failed";
    }
  }
}

// Strict mode sanitizes labels; this second layer, in an inert template (nothing in it loads), drops anything that
// could load or link anywhere before the drawing joins the page.
function inertDiagram(svg) {
  const template = document.createElement("template");
  template.innerHTML = svg;
  const drawing = template.content;
  drawing.querySelectorAll("script, foreignObject, image, img, iframe, object, embed, video, audio, a, use")
    .forEach((node) => node.replaceWith(...(node.localName === "a" ? node.childNodes : [])));
  for (const node of drawing.querySelectorAll("*")) {
    for (const { name, value } of [...node.attributes]) {
      const linking = /href$/i.test(name) && !value.startsWith("#");
      if (name.startsWith("on") || linking || /url\(\s*['"]?(?!#)/i.test(value)) node.removeAttribute(name);
    }
  }
  return drawing;
}

function addCodeToggle(block) {
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "code-copy";
  toggle.textContent = "Code";
  toggle.setAttribute("aria-label", "Show the diagram's code");
  toggle.addEventListener("click", () => {
    const showing = block.classList.toggle("show-code");
    toggle.textContent = showing ? "Diagram" : "Code";
  });
  block.querySelector(".code-head .code-copy")?.before(toggle);
}

function appendSafeHTML(element, html) {
  const holder = document.createElement("div");
  setSafeHTML(holder, html);
  element.append(...holder.childNodes);
}

// Most updates only add words to the last paragraph: the old tail's HTML with plain text inserted before its
// closing tags. Those are added as a text node, without parsing, sanitizing and laying out the block anew.
// Text without "<" or "&" is what the HTML parser would have made of it, so the page ends up the same.
const CLOSING_TAGS = /(?:<\/([a-z][a-z0-9]*)>\s*)*$/;
function appendText(element, oldHTML, newHTML) {
  const closing = oldHTML.match(CLOSING_TAGS)[0];
  const open = oldHTML.length - closing.length;
  if (!closing || !newHTML.startsWith(oldHTML.slice(0, open)) || !newHTML.endsWith(closing)) return false;
  const text = newHTML.slice(open, newHTML.length - closing.length);
  if (/[<&\r\0]/.test(text) || newHTML.length - closing.length < open) return false;
  let target = element;
  for (const [, tag] of [...closing.matchAll(/<\/([a-z][a-z0-9]*)>/g)].reverse()) {
    target = target.lastElementChild;
    if (!target || target.localName !== tag) return false;
  }
  target.append(text);
  return true;
}

export default {
  template: `<div><div ref="stable" class="md-part"></div><div ref="tail" class="md-part"></div></div>`,
  props: { content: String, seq: Number, stable: Number },
  mounted() {
    this.reset();
    window.chatReplies.set(this.$el.id, this);
    const waiting = window.chatPending.get(this.$el.id) || [];
    window.chatPending.delete(this.$el.id);
    for (const patch of waiting) this.applyPatch(...patch);
  },
  updated() {
    if (this.seq > this.appliedSeq) this.reset();  // a fresh snapshot from the server, newer than our patches
  },
  unmounted() {
    window.chatReplies.delete(this.$el.id);
  },
  methods: {
    reset() {
      this.appliedSeq = this.seq;
      this.stableLength = this.stable;
      this.tail = this.content.slice(this.stable);
      setSafeHTML(this.$refs.stable, this.content.slice(0, this.stable));
      setSafeHTML(this.$refs.tail, this.tail);
      drawDiagrams(this.$refs.stable);
    },
    applyPatch(seq, keep, stable, append) {
      if (seq <= this.appliedSeq) return;  // already applied (messages are replayed after a reconnect)
      this.appliedSeq = seq;
      let tail;
      if (keep < this.stableLength) {
        this.$refs.stable.replaceChildren();
        this.stableLength = 0;
        tail = append;
      } else {
        tail = this.tail.slice(0, keep - this.stableLength) + append;
      }
      if (stable > this.stableLength) {
        appendSafeHTML(this.$refs.stable, tail.slice(0, stable - this.stableLength));
        drawDiagrams(this.$refs.stable);
        tail = tail.slice(stable - this.stableLength);
        this.stableLength = stable;
      }
      if (tail !== this.tail || !tail) {
        if (!appendText(this.$refs.tail, this.tail, tail)) setSafeHTML(this.$refs.tail, tail);
        this.tail = tail;
      }
      // The server sends the next patch once this one is here: a page that is busy gets fewer, larger patches.
      this.$emit("shown", seq);
    },
  },
};
