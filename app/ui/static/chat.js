// The chat page's behaviour in the browser: copying, following the reply, the connection banner, and the draft
// kept in this browser. Loaded once per page, before any message is rendered.
(() => {
  // ---- Copy. The Clipboard API exists only on secure origins (https, localhost); a LAN address over plain http
  // falls back to the older copy command on a hidden text area, which still works inside the click that asked.
  window.chatCopy = async (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (error) { /* fall back */ }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.cssText = "position:fixed;top:0;left:0;opacity:0;";
    document.body.appendChild(area);
    area.select();
    try { return document.execCommand("copy"); } catch (error) { return false; } finally { area.remove(); }
  };

  // ---- Following. The newest text stays in view while it streams, and a conversation opens at its end. Only
  // the person stops the following (a wheel, a touch, a key, the scrollbar): the page's height also changes under
  // it (content-visibility's estimated heights become real ones as messages come into view), and the scroll
  // events that causes must not count as the person scrolling away.
  const scroller = document.scrollingElement;
  let follow = true, pending = false, intentUntil = 0, pointerHeld = false;
  const jump = document.createElement("button");
  jump.id = "jump-latest";
  jump.type = "button";
  jump.textContent = "↓ Jump to latest";
  jump.hidden = true;
  const toEnd = () => { scroller.scrollTop = scroller.scrollHeight; };
  const setFollow = (value) => {
    follow = value;
    jump.hidden = value;
    if (value) toEnd();  // at once, not smoothly: an animation's scroll events would stop the following again
  };
  window.chatFollow = () => setFollow(true);
  jump.addEventListener("click", () => setFollow(true));
  const intent = () => { intentUntil = performance.now() + 400; };
  const SCROLL_KEYS = new Set(["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "]);
  addEventListener("wheel", intent, { passive: true });
  addEventListener("touchmove", intent, { passive: true });
  addEventListener("pointerdown", () => { pointerHeld = true; }, { passive: true });
  addEventListener("pointerup", () => { pointerHeld = false; intent(); }, { passive: true });
  addEventListener("keydown", (event) => {
    if (SCROLL_KEYS.has(event.key) && !event.target.closest("textarea, input, [contenteditable]")) intent();
  });
  addEventListener("scroll", () => {
    if (!pointerHeld && performance.now() > intentUntil) return;  // the layout moved, not the person
    const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
    if (atEnd !== follow) { follow = atEnd; jump.hidden = atEnd; }
  }, { passive: true });
  // Scrolling waits for the next frame: reading scrollHeight on every change would force a layout each time.
  const keepAtEnd = () => {
    if (!follow || pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; if (follow) toEnd(); });
  };

  // ---- Earlier messages. A page shows a conversation's newest messages; the button above them brings the ones
  // before as soon as it comes near the view (while the person reads upwards, or when the page is not full yet).
  // Older messages arrive above what is read: the message at the top of the view stays where it is. (The
  // browser's own scroll anchoring does this, but not at the very top of the page, where the reading is.)
  let anchor = null;
  const holdAnchor = () => {
    const first = [...document.querySelectorAll(".msg")].find((m) => m.getBoundingClientRect().bottom > 0);
    if (first) anchor = { element: first, top: first.getBoundingClientRect().top, until: performance.now() + 2000 };
  };
  const keepAnchor = () => {
    if (!anchor) return;
    if (performance.now() > anchor.until || !anchor.element.isConnected) { anchor = null; return; }
    const moved = anchor.element.getBoundingClientRect().top - anchor.top;
    if (Math.abs(moved) > 1) scroller.scrollTop += moved;
  };
  document.addEventListener("click", (event) => {
    if (event.target.closest?.(".load-earlier")) holdAnchor();
  }, true);
  const earlier = new IntersectionObserver((entries) => {
    for (const { target, isIntersecting } of entries) {
      const pageNotFull = scroller.scrollHeight <= scroller.clientHeight + 10;
      if (isIntersecting && (!follow || pageNotFull) && !target.dataset.asked) {
        target.dataset.asked = "yes";
        target.click();
      }
    }
  }, { rootMargin: "800px 0px 0px 0px" });
  // The drawer's "Show more" the same way, whenever it comes near the view.
  const more = new IntersectionObserver((entries) => {
    for (const { target, isIntersecting } of entries) if (isIntersecting) target.click();
  }, { rootMargin: "0px 0px 400px 0px" });
  const watchEarlier = () => {
    for (const button of document.querySelectorAll(".load-earlier:not([data-watched])")) {
      button.dataset.watched = "yes";
      earlier.observe(button);
    }
    for (const button of document.querySelectorAll(".load-more:not([data-watched])")) {
      button.dataset.watched = "yes";
      more.observe(button);
    }
  };

  // ---- The drawer keeps its place: where it was scrolled when a conversation was opened is where it opens.
  const drawerScroller = () => document.querySelector(".q-drawer .q-drawer__content");
  addEventListener("pagehide", () => {
    const drawer = drawerScroller();
    if (drawer) sessionStorage.setItem("chat-drawer-scroll", String(drawer.scrollTop));
  });
  let drawerRestored = false;
  const restoreDrawer = () => {
    const drawer = drawerScroller(), saved = Number(sessionStorage.getItem("chat-drawer-scroll") || 0);
    if (drawerRestored || !drawer || !document.querySelector(".conversation-row")) return;
    drawerRestored = true;
    if (saved) drawer.scrollTop = saved;
  };

  // ---- The connection. NiceGUI shows a small corner notice (#popup, aria-hidden="false" while the socket is
  // away; NiceGUI has no public event for this: app/nicegui_hooks.py names the id and tests check it); it is
  // hidden by chat.css and replaced by a banner across the chat that says what happens to the text.
  const banner = document.createElement("div");
  banner.id = "connection-banner";
  banner.setAttribute("role", "status");
  banner.textContent = "Reconnecting… Your message is kept; Send works again once the connection is back.";
  banner.hidden = true;
  let bannerTimer = null;
  const showOffline = (offline) => {
    window.chatOffline = offline;
    document.body.classList.toggle("chat-offline", offline);
    for (const button of document.querySelectorAll(".send-button")) {
      if (offline) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
      button.title = offline ? "Reconnecting… Send works again once the connection is back." : "";
    }
    clearTimeout(bannerTimer);
    // A page being left (a link, a reload) drops its socket too: only an absence that lasts is announced.
    if (offline) bannerTimer = setTimeout(() => { banner.hidden = !window.chatOffline; }, 600);
    else banner.hidden = true;
  };
  const watchConnection = () => {
    const popup = document.getElementById("popup");
    if (!popup) return;
    const read = () => showOffline(popup.getAttribute("aria-hidden") === "false");
    new MutationObserver(read).observe(popup, { attributes: true, attributeFilter: ["aria-hidden"] });
    read();
  };

  // ---- The draft: what is typed is kept in this browser per conversation, so a restart of the server (which
  // reloads the page) or a reload loses nothing. It is forgotten once the message is sent (chatDrafts.forget).
  const draftKey = (path) => "chat-draft:" + (path || location.pathname);
  let saveTimer = null;
  const saveDraft = (box) => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      try {
        if (box.value) localStorage.setItem(draftKey(), box.value);
        else localStorage.removeItem(draftKey());
      } catch (error) { /* storage full or disabled: the box still has the text */ }
    }, 300);
  };
  window.chatDrafts = {
    forget: (path) => { clearTimeout(saveTimer); try { localStorage.removeItem(draftKey(path)); } catch (e) { /**/ } },
  };
  const restoreDraft = (box) => {
    let saved = null;
    try { saved = localStorage.getItem(draftKey()); } catch (error) { return; }
    if (!saved || box.value) return;
    box.value = saved;
    box.dispatchEvent(new Event("input", { bubbles: true }));  // Vue, and through it the server, take the value
  };
  document.addEventListener("input", (event) => {
    if (event.target.matches?.(".composer textarea")) saveDraft(event.target);
  }, true);

  // ---- Wiring, once the page's elements exist.
  const composerHeight = (footer) => {
    document.documentElement.style.setProperty("--composer-height", footer.offsetHeight + "px");
  };
  let composerSeen = false;
  // Looking for new buttons to watch waits a little: a streaming reply changes the page every frame, and twenty
  // tabs searching their whole page on every change cost a measurable share of the machine.
  let lookPending = false;
  const lookForButtons = () => {
    if (lookPending) return;
    lookPending = true;
    setTimeout(() => { lookPending = false; watchEarlier(); restoreDrawer(); }, 150);
  };
  const onPageChange = () => {
    keepAnchor();
    keepAtEnd();
    lookForButtons();
    if (composerSeen) return;
    const box = document.querySelector(".composer textarea");
    const footer = document.querySelector(".q-footer");
    if (!box || !footer) return;
    composerSeen = true;
    restoreDraft(box);
    new ResizeObserver(() => composerHeight(footer)).observe(footer);
    composerHeight(footer);
  };
  // ---- "Skip to message box", the first thing a keyboard reaches on the page.
  const skip = document.createElement("a");
  skip.className = "skip-link";
  skip.href = "#message-box";
  skip.textContent = "Skip to message box";
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    document.querySelector(".composer textarea")?.focus();
  });

  const start = () => {
    document.body.prepend(skip);
    document.body.append(jump, banner);
    new MutationObserver(onPageChange).observe(document.body, { childList: true, subtree: true, characterData: true });
    new ResizeObserver(keepAtEnd).observe(document.body);
    watchConnection();
    onPageChange();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
