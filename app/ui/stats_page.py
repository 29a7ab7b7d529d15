"""The Stats page: how replies went over the last hour, day or week (per model: how they ended, handed on to a
route's next model included, success rate, time to first token and tokens per second), and since the server
started, errors by kind, retries and dropped connections. For the person: no Prometheus needed (GET /metrics has
the same and more)."""

from __future__ import annotations

from nicegui import ui

from app.chat.stats import WINDOWS, ReplyStats, Stats
from app.providers.routes import FELL_BACK
from app.security.access import Access
from app.storage.models import Status
from app.ui.side_page import SidePage

# How a model's part in replies ended: (what ModelStats counts, the table's field, its label).
ENDS = (
    (Status.COMPLETE, "complete", "Complete"),
    (Status.STOPPED, "stopped", "Stopped"),
    (Status.ERROR, "error", "Error"),
    (Status.INTERRUPTED, "interrupted", "Interrupted"),
    (FELL_BACK, "fell_back", "Handed on"),  # failed before its first token; the route's next model answered
)
WINDOW_NAMES = {"hour": "Last hour", "day": "Last day", "week": "Last week"}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value / 1000:.2f} s"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _speed(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


class StatsPage(SidePage):
    def __init__(self, stats: ReplyStats, access: Access, window: str = "day") -> None:
        super().__init__(access)
        self.stats = stats
        self.first_window = window if window in WINDOWS else "day"

    def build(self) -> None:
        self.header("Stats")
        with ui.column().classes("composer gap-4 py-6"):
            self.window = ui.toggle(WINDOW_NAMES, value=self.first_window, on_change=self.render).props("no-caps")
            self.window.mark("stats-window")
            self.body = ui.column().classes("w-full gap-4")
        self.render()

    def render(self) -> None:
        if not self.allowed():
            return
        stats = self.stats.over(self.window.value if self.window.value in WINDOWS else "day")
        self.body.clear()
        with self.body:
            self._models(stats)
            self._since_start(stats)

    def _models(self, stats: Stats) -> None:
        if not stats.models:
            ui.label(f"No replies in the {WINDOW_NAMES[stats.window].lower()}.").mark("stats-empty")
            return
        rows = [
            {
                "model": s.model,
                "replies": s.replies,
                "success": _rate(s.success_rate),
                "ttft50": _ms(s.first_token(0.5)),
                "ttft95": _ms(s.first_token(0.95)),
                "speed50": _speed(s.speed(0.5)),
                **{name: s.ended[end] for end, name, _ in ENDS},
            }
            for s in stats.models
        ]
        columns = [
            {"name": "model", "label": "Model", "field": "model", "align": "left"},
            {"name": "replies", "label": "Replies", "field": "replies"},
            {"name": "success", "label": "Success", "field": "success"},
            {"name": "ttft50", "label": "First token p50", "field": "ttft50"},
            {"name": "ttft95", "label": "First token p95", "field": "ttft95"},
            {"name": "speed50", "label": "Tokens/s p50", "field": "speed50"},
            *({"name": name, "label": label, "field": name} for _, name, label in ENDS),
        ]
        ui.table(columns=columns, rows=rows, row_key="model").classes("w-full").mark("stats-table")
        names = [s.model for s in stats.models]
        ended = {label: [s.ended[end] for s in stats.models] for end, _, label in ENDS}
        bar_chart("How replies ended", names, ended, stacked=True).mark("stats-ended-chart")
        first_token = {
            f"p{round(share * 100)}": [_seconds(s.first_token(share)) for s in stats.models] for share in (0.5, 0.95)
        }
        bar_chart("Time to first token (s)", names, first_token).mark("stats-ttft-chart")

    def _since_start(self, stats: Stats) -> None:
        ui.label("Since the server started").classes("text-h6")
        with ui.row().classes("gap-6"):
            ui.label(f"Retries: {stats.retries:.0f}")
            ui.label(f"Moved to a route's next model: {stats.fallbacks:.0f}")
            ui.label(f"Connections lost during a reply: {stats.disconnects:.0f}")
            ui.label(f"Tabs that fell behind: {stats.tabs_behind:.0f}")
        if stats.errors_by_kind:
            kinds = sorted(stats.errors_by_kind.items(), key=lambda item: -item[1])
            counts = {"errors": [count for _, count in kinds]}
            bar_chart("Provider errors by kind", [kind for kind, _ in kinds], counts).mark("stats-errors-chart")
        else:
            ui.label("No provider errors.").classes("text-sm opacity-70")


def bar_chart(title: str, categories: list[str], series: dict[str, list], stacked: bool = False) -> ui.echart:
    """Bars per category (a model, an error kind), one series per key of `series`; stacked ones lie flat."""
    category_axis, value_axis = {"type": "category", "data": categories}, {"type": "value", "minInterval": 1}
    options = {
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 24},
        "grid": {"top": 60, "containLabel": True},
        "xAxis": value_axis if stacked else category_axis,
        "yAxis": category_axis if stacked else value_axis,
        "series": [
            {"name": name, "type": "bar", "data": values, **({"stack": "all"} if stacked else {})}
            for name, values in series.items()
        ],
    }
    return ui.echart(options).classes("w-full h-64")


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else round(ms / 1000, 3)


def register_stats_page(stats: ReplyStats, access: Access) -> None:
    @ui.page("/stats", title="Stats · Chat")
    def stats_page(window: str = "day") -> None:
        """`/stats?window=week` opens on the last week (hour, day, week)."""
        StatsPage(stats, access, window).build()
