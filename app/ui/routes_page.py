"""The Routes page: make a route, an ordered list of models across providers that the Model selector offers as one
entry (`Route · <name>`). A model that fails before its first token hands the reply to the next; those of
MODEL_ROUTES are shown as set where the server started."""

from __future__ import annotations

from nicegui import ui

from app.chat.model_routes import ModelRoutes
from app.providers.catalog import ModelCatalog
from app.providers.routes import ModelRoute
from app.security.access import Access
from app.ui.guard import REFUSED, Guard
from app.ui.side_page import SidePage


class RoutesPage(SidePage):
    def __init__(self, routes: ModelRoutes, models: ModelCatalog, access: Access) -> None:
        super().__init__(access)
        self.guard = Guard(self.allowed)
        self.routes = routes
        self.models = models

    def build(self) -> None:
        self.header("Routes")
        with ui.column().classes("composer gap-4 py-6"):
            ui.label(
                "A route is one entry of the Model selector that tries several models in order, across providers. "
                "When a model fails before writing anything (overloaded, rate-limited, unreachable, a refused key), "
                "the next one answers, and the reply says which and why. Once a model has started writing nothing "
                "switches on its own: a failed reply offers “Continue with” the next model."
            ).classes("text-sm opacity-80")
            self.list = ui.column().classes("w-full gap-3")
            self.form = RouteForm(self)
        self.render()

    def render(self) -> None:
        self.list.clear()
        with self.list:
            if not self.routes.all():
                ui.label("No route yet: make one below.").classes("text-sm opacity-70").mark("no-routes")
            for route in self.routes.all():
                self._card(route)

    def label_of(self, key: str) -> str:
        option = self.models.find(key)
        return option.label if option else f"{key} (not offered now)"

    def _card(self, route: ModelRoute) -> None:
        with ui.card().classes("w-full gap-1").mark(f"route-{route.name}"):
            with ui.row().classes("w-full items-center no-wrap"):
                ui.label(route.label).classes("text-h6 grow")
                if route.from_environment:
                    ui.label("Set by MODEL_ROUTES").classes("text-sm opacity-80")
            with ui.element("ol").classes("route-models pl-6 list-decimal"):
                for key in route.models:
                    with ui.element("li").mark("route-model"):
                        ui.label(self.label_of(key))
            when = "at once on a server or connection error" if route.switch_at_once else "after each model's retries"
            ui.label(f"Moves to the next model {when}.").classes("text-sm opacity-80")
            if not route.from_environment:
                with ui.row().classes("gap-2"):
                    edit = ui.button("Edit", on_click=lambda route=route: self.form.show(route))
                    edit.props(f'flat no-caps aria-label="Edit route {route.name}"')
                    remove = ui.button("Remove", on_click=lambda name=route.name: self.remove(name))
                    remove.props(f'flat no-caps color=negative aria-label="Remove route {route.name}"')

    async def keep(self, name: str, models: list[str], switch_at_once: bool) -> bool:
        if await self.guard.run(self.routes.keep, name, models, switch_at_once) is REFUSED:
            return False
        ui.notify(f"Route {name} saved: it is in the Model selector.", type="positive")
        self.render()
        return True

    async def remove(self, name: str) -> None:
        if await self.guard.run(self.routes.remove, name) is not REFUSED:
            ui.notify(f"Route {name} removed.")
            self.render()


class RouteForm:
    """A route's name, its models in the order they are tried (added one by one, moved up or down), and whether it
    moves on at once."""

    def __init__(self, page: RoutesPage) -> None:
        self.page = page
        self.chosen: list[str] = []
        with ui.card().classes("w-full gap-2").mark("route-form"):
            ui.label("Make a route").classes("text-subtitle1")
            self.name = ui.input("Name", placeholder="fast").props("outlined dense").classes("w-full")
            self.rows = ui.column().classes("w-full gap-1")
            options = {option.key: option.label for option in page.models.options}
            self.adding = ui.select(options, label="Add a model", on_change=self._add).props("outlined dense")
            self.adding.classes("w-full")
            self.at_once = ui.checkbox("Move on at once on a server or connection error (no retries first)")
            ui.button("Save route", icon="save", on_click=self.save).props("unelevated no-caps")
        self._show_rows()

    def show(self, route: ModelRoute) -> None:
        """Edit this route: its values in the form."""
        self.name.value, self.chosen, self.at_once.value = route.name, list(route.models), route.switch_at_once
        self._show_rows()

    async def save(self) -> None:
        if await self.page.keep(self.name.value or "", self.chosen, bool(self.at_once.value)):
            self.name.value, self.chosen, self.at_once.value = "", [], False
            self._show_rows()

    def _add(self) -> None:
        key = self.adding.value
        if key and key not in self.chosen:
            self.chosen.append(key)
            self._show_rows()
        self.adding.set_value(None)

    def _move(self, at: int, step: int) -> None:
        to = at + step
        if 0 <= to < len(self.chosen):
            self.chosen[at], self.chosen[to] = self.chosen[to], self.chosen[at]
            self._show_rows()

    def _drop(self, at: int) -> None:
        del self.chosen[at]
        self._show_rows()

    def _show_rows(self) -> None:
        self.rows.clear()
        with self.rows:
            if not self.chosen:
                ui.label("Add the models in the order they are tried.").classes("text-sm opacity-70")
            for at, key in enumerate(self.chosen):
                label = self.page.label_of(key)
                with ui.row().classes("w-full items-center no-wrap gap-1").mark("route-form-model"):
                    ui.label(f"{at + 1}. {label}").classes("grow")
                    up = small_button("arrow_upward", f"Move {label} up", lambda at=at: self._move(at, -1))
                    up.set_enabled(at > 0)
                    down = small_button("arrow_downward", f"Move {label} down", lambda at=at: self._move(at, 1))
                    down.set_enabled(at < len(self.chosen) - 1)
                    small_button("close", f"Take {label} out", lambda at=at: self._drop(at))


def small_button(icon: str, name: str, on_click) -> ui.button:
    button = ui.button(icon=icon, on_click=on_click).props("flat round dense size=sm")
    button.props["aria-label"] = name  # set as a value: a model's name is not parsed as props
    return button


def register_routes_page(routes: ModelRoutes, models: ModelCatalog, access: Access) -> None:
    @ui.page("/routes", title="Routes · Chat")
    def routes_page() -> None:
        RoutesPage(routes, models, access).build()
