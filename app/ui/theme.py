"""Page-wide styles and behaviour (static/: chat.css, chat.js, patches.js, preview.js, send.js), and the light/dark/auto
theme toggle."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from nicegui import app, ui

from app.ui.drafts import UPLOAD_ABOVE_CHARS
from app.ui.markdown import CODE_STYLE

STATIC_DIR = Path(__file__).parent / "static"
STATIC_ROUTE = "/static"


def serve_static_files() -> None:
    """The page's own stylesheet and script, and KaTeX's stylesheet and fonts: served by the app, never a CDN."""
    app.add_static_files(STATIC_ROUTE, STATIC_DIR)


@cache
def _versioned(name: str) -> str:
    # The content's hash in the URL: a browser never keeps last version's file after an upgrade.
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_ROUTE}/{name}?v={digest}"


def apply_theme() -> None:
    ui.add_head_html(
        f'<link rel="stylesheet" href="{_versioned("katex/katex.min.css")}">'
        f'<link rel="stylesheet" href="{_versioned("chat.css")}">'
    )
    ui.add_css(CODE_STYLE)
    ui.add_body_html(
        f'<script src="{_versioned("chat.js")}"></script>'
        f'<script src="{_versioned("patches.js")}"></script>'
        f'<script src="{_versioned("preview.js")}"></script>'
        f'<script src="{_versioned("send.js")}" data-upload-above="{UPLOAD_ABOVE_CHARS}"></script>'
    )


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
