"""Named system prompts, offered in every conversation's settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col

from app.storage.models import SystemPreset
from app.storage.store import Store


class PresetStore(Store):
    """Presets by name."""

    def presets(self) -> Sequence[SystemPreset]:
        return self._all(SystemPreset, col(SystemPreset.name))

    def save_preset(self, name: str, text: str) -> None:
        self._keep(SystemPreset(name=name, text=text))

    def rename_preset(self, name: str, new_name: str) -> None:
        with self._session() as session:
            preset = session.get(SystemPreset, name)
            if preset is not None and new_name != name:
                session.add(SystemPreset(name=new_name, text=preset.text))
                session.delete(preset)
                session.commit()

    def delete_preset(self, name: str) -> None:
        self._forget(SystemPreset, col(SystemPreset.name) == name)
