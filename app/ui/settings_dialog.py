"""A conversation's own settings: system prompt (or a named preset), temperature and reply length."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from nicegui import ui

from app.chat.conversations import MAX_OUTPUT_TOKENS_LIMIT, ConversationOptions, reply_length_ok, temperature_ok
from app.chat.service import ChatService
from app.providers.base import USUAL_TEMPERATURES, Capabilities
from app.providers.catalog import ModelOption
from app.ui.guard import REFUSED, Guard

# The service's own rules (it refuses the same values), said beside each field.
TEMPERATURE_RANGE = "From {low:g} to {high:g} (empty: the model's default)"
LENGTH_RANGE = f"A whole number from 1 to {MAX_OUTPUT_TOKENS_LIMIT:,} (empty: the server's default)"


class SettingsDialog:
    def __init__(
        self,
        service: ChatService,
        current_id: Callable[[], str | None],
        guard: Guard,
        chosen_model: Callable[[], ModelOption | None],
        keep_for_new: Callable[[ConversationOptions], None],
        on_saved: Callable[[ConversationOptions], None],
    ) -> None:
        self.service = service
        self.current_id = current_id
        self.guard = guard
        self.chosen_model = chosen_model  # the dialog offers only what it takes
        self.keep_for_new = keep_for_new  # a conversation not yet started takes them with its first message
        self.on_saved = on_saved
        self.pending = ConversationOptions()
        with ui.dialog() as self.dialog, ui.card().classes("w-[34rem] max-w-full gap-2"):
            ui.label("Conversation settings").classes("text-h6")
            self.preset = ui.select({}, label="Preset", on_change=self._use_preset).props("dense outlined clearable")
            self.preset.classes("w-full")
            self.system_prompt = ui.textarea("System prompt").props("outlined autogrow").classes("w-full")
            with ui.row().classes("w-full no-wrap gap-2"):
                # Checked, not clamped: a value out of range is refused with a message beside the field, never
                # quietly changed into another one.
                self.temperature = ui.number("Temperature", step=0.1, format="%.1f")
                self.temperature.props("dense outlined clearable").classes("grow")
                self.max_tokens = ui.number(
                    "Max output tokens", step=256, format="%d", validation={LENGTH_RANGE: reply_length_ok}
                )
                self.max_tokens.props("dense outlined clearable").classes("grow")
            ui.label("Empty: the model's default temperature and the server's reply length.").classes(
                "text-xs opacity-60"
            )
            self.not_taken = ui.label("").classes("text-xs opacity-80").mark("settings-not-taken")
            ui.label("Tools").classes("text-subtitle2")
            self.tools_said = ui.label("").classes("text-xs opacity-80").mark("settings-tools")
            self.tool_boxes: dict[str, ui.checkbox] = {}
            self.tool_sources = ui.column().classes("gap-0")
            with ui.row().classes("w-full items-end no-wrap gap-1"):
                self.preset_name = ui.input("Preset name").props("dense outlined").classes("grow")
                ui.button("Save as preset", on_click=self.save_preset).props("flat no-caps dense")
                self.rename_preset = ui.button("Rename", on_click=self.rename_chosen).props("flat no-caps dense")
                self.rename_preset.props('aria-label="Rename preset"')
                self.delete_preset = ui.button("Delete", on_click=self.delete_chosen).props("flat no-caps dense")
                self.delete_preset.props('aria-label="Delete preset" color=negative')
            self._show_preset_actions()
            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps")
                ui.button("Save", on_click=self.save).props("unelevated no-caps aria-label=Save").mark("settings-save")

    def open(self) -> None:
        self._offer_what_the_model_takes()
        conversation_id = self.current_id()
        options = self.service.conversations.options(conversation_id) if conversation_id else self.pending
        self.preset.set_options(list(self.service.conversations.presets()))
        self.preset.value = None
        self.system_prompt.value = options.system_prompt or ""
        self.temperature.value = options.temperature
        self.max_tokens.value = options.max_output_tokens
        self._offer_tools(options.tool_sources)
        self.dialog.open()

    async def save(self) -> None:
        if not (self.temperature.validate() and self.max_tokens.validate()):
            return  # each field says what it takes
        max_tokens = self.max_tokens.value
        chosen = frozenset(name for name, box in self.tool_boxes.items() if box.value)
        options = ConversationOptions(
            self.system_prompt.value or None,
            self.temperature.value,
            int(max_tokens) if max_tokens is not None else None,
            # Every source on: None, so a server added later is on here too.
            None if len(chosen) == len(self.tool_boxes) else chosen,
        )
        if await self.guard.run(self._keep, options) is REFUSED:
            return
        self.dialog.close()
        self.on_saved(options)
        ui.notify("Settings saved: they apply from the next reply.", timeout=1500)

    def _offer_what_the_model_takes(self) -> None:
        model = self.chosen_model()
        takes = model.provider.capabilities if model else Capabilities()  # before any model is chosen
        allowed = takes.temperature or USUAL_TEMPERATURES
        self.temperature.validation = {
            TEMPERATURE_RANGE.format(low=allowed[0], high=allowed[1]): partial(temperature_ok, allowed=allowed)
        }
        self.temperature.set_visibility(takes.temperature is not None)
        self.system_prompt.set_visibility(takes.system_prompt)
        missing = [
            name
            for name, taken in (("temperature", takes.temperature), ("system prompt", takes.system_prompt))
            if not taken
        ]
        # Said, so a value set for another model is not thought to be in use.
        self.not_taken.set_text(f"{model.label} takes no {' or '.join(missing)}: none is sent." if model else "")
        self.not_taken.set_visibility(bool(model and missing))

    def _offer_tools(self, chosen: frozenset[str] | None) -> None:
        """A switch per tool source; what the model cannot use is said (the embedded model calls no tools)."""
        sources = self.service.replies.tools.sources()
        model = self.chosen_model()
        self.tool_sources.clear()
        self.tool_boxes = {}
        with self.tool_sources:
            for name, tools in sources.items():
                listed = ", ".join(tools) if tools else "starting…"
                self.tool_boxes[name] = ui.checkbox(f"{name} ({listed})", value=chosen is None or name in chosen)
        if model is not None and not model.provider.capabilities.streams_tool_calls:
            said = f"{model.label} cannot call tools: none are offered to it."
        elif not sources:
            said = "No tools are turned on: add MCP servers or the built-in tools on the Tools page."
        else:
            said = "Tools this conversation offers the model (you are asked before a server's tool runs)."
        self.tools_said.set_text(said)

    async def _keep(self, options: ConversationOptions) -> None:
        if (conversation_id := self.current_id()) is not None:
            await self.service.conversations.configure(conversation_id, options)
        else:
            self.pending = options
            self.keep_for_new(options)

    async def save_preset(self) -> None:
        typed = self.preset_name.value or "", self.system_prompt.value or ""
        if await self.guard.run(self.service.conversations.save_preset, *typed) is REFUSED:
            return
        self.preset.set_options(list(self.service.conversations.presets()))
        ui.notify(f"Preset “{self.preset_name.value.strip()}” saved.", timeout=1500)

    async def rename_chosen(self) -> None:
        chosen, new_name = self.preset.value, (self.preset_name.value or "").strip()
        if not chosen or await self.guard.run(self.service.conversations.rename_preset, chosen, new_name) is REFUSED:
            return
        self.preset.set_options(list(self.service.conversations.presets()), value=new_name)
        ui.notify(f"Preset renamed to “{new_name}”.", timeout=1500)

    async def delete_chosen(self) -> None:
        chosen = self.preset.value
        if not chosen or await self.guard.run(self.service.conversations.delete_preset, chosen) is REFUSED:
            return
        self.preset.set_options(list(self.service.conversations.presets()), value=None)
        ui.notify(f"Preset “{chosen}” deleted; the system prompt above is unchanged.", timeout=2000)

    def _use_preset(self) -> None:
        if self.preset.value:
            self.system_prompt.value = self.service.conversations.presets().get(
                self.preset.value, self.system_prompt.value
            )
            self.preset_name.value = self.preset.value
        self._show_preset_actions()

    def _show_preset_actions(self) -> None:
        chosen = bool(self.preset.value)
        self.rename_preset.set_enabled(chosen)
        self.delete_preset.set_enabled(chosen)
