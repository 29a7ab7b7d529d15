"""Page-wide styles and the one client-side behaviour the page needs: follow the reply while it grows."""

from __future__ import annotations

from nicegui import app, ui

from app.ui.drafts import SEND_SCRIPT
from app.ui.markdown import CODE_STYLE
from app.ui.streaming_markdown import PATCH_RECEIVER

STYLE = """
.msg { max-width: 52rem; width: 100%; margin: 0 auto; padding: .75rem 1rem; border-radius: .75rem;
       /* A growing reply re-lays-out and repaints only itself; messages off screen are not rendered at all. */
       contain: layout paint style; content-visibility: auto; contain-intrinsic-size: auto 6rem; }
.msg-user { background: rgba(127,127,127,.12); width: fit-content; max-width: min(52rem, 85%);
            margin-right: 0; margin-left: auto; }
.msg-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.md-part { display: contents; }
.md-body { overflow-wrap: anywhere; line-height: 1.6; }
.md-body pre { background: rgba(127,127,127,.10); padding: .75rem; border-radius: .5rem; overflow-x: auto; }
.md-body code { font-size: .9em; }
.md-body table { border-collapse: collapse; margin: .5rem 0; }
.md-body th, .md-body td { border: 1px solid rgba(127,127,127,.35); padding: .25rem .6rem; }
.md-body p { margin: .4rem 0; }
.md-image-link::before { content: ""; }
.typing { display: flex; gap: .3rem; padding: .5rem 0; }
.typing span { width: .5rem; height: .5rem; border-radius: 50%; background: currentColor; opacity: .25;
               animation: typing 1.2s infinite ease-in-out; }
.typing span:nth-child(2) { animation-delay: .2s; }
.typing span:nth-child(3) { animation-delay: .4s; }
@keyframes typing { 40% { opacity: .8; } }
.msg-assistant h1 { font-size: 1.5rem; line-height: 2rem; margin: 1rem 0 .5rem; font-weight: 600; }
.msg-assistant h2 { font-size: 1.3rem; line-height: 1.8rem; margin: 1rem 0 .5rem; font-weight: 600; }
.msg-assistant h3, .msg-assistant h4, .msg-assistant h5, .msg-assistant h6 {
  font-size: 1.1rem; line-height: 1.6rem; margin: .75rem 0 .25rem; font-weight: 600; }
#jump-latest { position: fixed; bottom: 5.5rem; left: 50%; transform: translateX(-50%); z-index: 3000;
  border-radius: 999px; padding: .35rem .9rem; border: 1px solid rgba(0,0,0,.15); background: white;
  box-shadow: 0 2px 8px rgba(0,0,0,.15); cursor: pointer; font-size: .85rem; }
#jump-latest[hidden] { display: none; }
.msg-assistant pre { position: relative; }
.code-copy { position: absolute; top: .3rem; right: .3rem; font-size: .75rem; padding: .1rem .5rem; cursor: pointer;
  border: 1px solid rgba(0,0,0,.15); border-radius: .35rem; background: rgba(255,255,255,.85); opacity: .6; }
.msg-assistant pre:hover .code-copy, .code-copy:focus { opacity: 1; }
.chat-bar { background: #fff; color: #000; }
.body--dark .chat-bar { background: #161616; color: #eee; }
.body--dark #jump-latest, .body--dark .code-copy { background: #2a2a2a; color: #eee; border-color: #555; }
.msg-copy { opacity: .45; }
.msg:hover .msg-copy, .msg-copy:focus { opacity: 1; }
.msg-notice { font-size: .85rem; opacity: .7; font-style: italic; }
.msg-note { font-size: .8rem; opacity: .7; border-left: 3px solid var(--q-info); padding-left: .5rem;
            margin-bottom: .5rem; }
.msg-error { display: flex; align-items: center; justify-content: space-between; gap: .5rem; margin-top: .5rem;
             padding: .5rem .75rem; border-radius: .5rem; border: 1px solid var(--q-negative);
             background: rgba(193,0,21,.06); }
.msg-error-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.msg-footer { font-size: .75rem; opacity: .55; margin-top: .25rem; }
.composer { max-width: 52rem; width: 100%; margin: 0 auto; }
.conversation-link { display: block; padding: .4rem .6rem; border-radius: .5rem; overflow: hidden;
                     text-overflow: ellipsis; white-space: nowrap; color: inherit; text-decoration: none; }
.conversation-link:hover, .conversation-link.current { background: rgba(127,127,127,.15); }
"""

# Keeps the newest text in view while it streams, unless the person has scrolled up to read.
FOLLOW_SCRIPT = """
<script>
(() => {
  let follow = true, pending = false;
  // Scrolling up stops following the reply; this button (shown only then) jumps back and follows again.
  const jump = document.createElement('button');
  jump.id = 'jump-latest';
  jump.type = 'button';
  jump.textContent = '↓ Jump to latest';
  jump.hidden = true;
  jump.addEventListener('click', () => {
    follow = true;
    jump.hidden = true;
    // At once, not smoothly: the scroll events of an animation half-way up would stop the following again.
    document.scrollingElement.scrollTop = document.scrollingElement.scrollHeight;
  });
  document.body.appendChild(jump);
  addEventListener('scroll', () => {
    const el = document.scrollingElement;
    follow = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    jump.hidden = follow;
  }, {passive: true});
  // Scrolling waits for the next frame: reading scrollHeight on every change would force a layout each time.
  new MutationObserver(() => {
    if (!follow || pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (follow) document.scrollingElement.scrollTop = document.scrollingElement.scrollHeight;
    });
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
})();
</script>
"""


# The Clipboard API exists only on secure origins (https, localhost); a LAN address over plain http falls back to
# the older copy command on a hidden text area, which still works inside the click that asked for it.
COPY_SCRIPT = """
<script>
window.chatCopy = async (text) => {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (error) { /* fall back */ }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.cssText = 'position:fixed;top:0;left:0;opacity:0;';
  document.body.appendChild(area);
  area.select();
  try { return document.execCommand('copy'); } catch (error) { return false; } finally { area.remove(); }
};
</script>
"""


def apply_theme() -> None:
    ui.add_css(STYLE + CODE_STYLE)
    ui.add_body_html(FOLLOW_SCRIPT + PATCH_RECEIVER + COPY_SCRIPT + SEND_SCRIPT)


THEMES = {
    "auto": (None, "brightness_auto", "Theme: as the system"),
    "dark": (True, "dark_mode", "Theme: dark"),
    "light": (False, "light_mode", "Theme: light"),
}
NEXT_THEME = {"auto": "dark", "dark": "light", "light": "auto"}


def theme_toggle() -> None:
    """Dark mode that follows the system until this browser picks dark or light; the choice is remembered."""
    chosen = app.storage.user.get("theme", "auto")
    dark_mode = ui.dark_mode(THEMES.get(chosen, THEMES["auto"])[0])

    def show(theme: str) -> None:
        value, icon, label = THEMES[theme]
        dark_mode.value = value
        button.props(f"icon={icon}")
        button.props["aria-label"] = label

    def cycle() -> None:
        theme = NEXT_THEME[app.storage.user.get("theme", "auto")]
        app.storage.user["theme"] = theme
        show(theme)

    button = ui.button(on_click=cycle).props("flat round").mark("theme-toggle")
    show(chosen if chosen in THEMES else "auto")
