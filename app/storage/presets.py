"""Named system prompts, offered in every conversation's settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, delete, select

from app.storage.models import SystemPreset
from app.storage.store import Store


class PresetStore(Store):
    """Presets by name."""

    def presets(self) -> Sequence[SystemPreset]:
        with self._session() as session:
            return session.exec(select(SystemPreset).order_by(col(SystemPreset.name))).all()

    def save_preset(self, name: str, text: str) -> None:
        with self._session() as session:
            session.merge(SystemPreset(name=name, text=text))
            session.commit()

    def rename_preset(self, name: str, new_name: str) -> None:
        with self._session() as session:
            preset = session.get(SystemPreset, name)
            if preset is not None and new_name != name:
                session.add(SystemPreset(name=new_name, text=preset.text))
                session.delete(preset)
                session.commit()

    def delete_preset(self, name: str) -> None:
        with self._session() as session:
            session.exec(delete(SystemPreset).where(col(SystemPreset.name) == name))
            session.commit()
