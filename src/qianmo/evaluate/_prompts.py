"""Prompt templates (YAML data, Chinese and English), k-shot examples and option rotation."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from qianmo.errors import QianmoError
from qianmo.evaluate._items import Item
from qianmo.evaluate._template_file import parse_template
from qianmo.llm import Message

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(template: str, values: dict[str, str]) -> str:
    # One pass: a question that contains "{choices}" stays as written.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Rotation:
    """Option texts shifted by `shift` places; circular evaluation asks every shift."""

    choices: dict[str, str]
    truth: list[str]
    shift: int = 0


def rotate(item: Item, shift: int) -> Rotation:
    labels, texts = list(item.choices), list(item.choices.values())
    n = len(labels)
    choices = {labels[i]: texts[(i + shift) % n] for i in range(n)}
    truth = sorted(labels[(labels.index(t) - shift) % n] for t in item.truth)
    return Rotation(choices, truth, shift)


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    langs: dict[str, dict[str, Any]]
    source: str

    def _lang(self, lang: str) -> dict[str, Any]:
        return self.langs.get(lang) or self.langs["en"]

    def system(self, lang: str) -> str | None:
        return self._lang(lang).get("system")

    def reminder(self, lang: str) -> str:
        return str(self._lang(lang)["reminder"])

    def user_text(self, item: Item, rotation: Rotation | None = None) -> str:
        parts = self._lang(item.lang)
        values = {"question": str(item.content.get("question", ""))}
        if item.kind == "mcq":
            choices = rotation.choices if rotation else item.choices
            values["choices"] = "\n".join(
                _fill(parts["choice_line"], {"label": k, "text": v}) for k, v in choices.items()
            )
        return _fill(parts[item.answer_type], values)

    def shot_answer(self, item: Item) -> str:
        return _fill(self._lang(item.lang)["shot_answer"], {"answer": ", ".join(item.truth)})

    def messages(
        self,
        item: Item,
        *,
        rotation: Rotation | None = None,
        shots: Sequence[Item] = (),
        system: str | None = None,
    ) -> list[Message]:
        """System prompt (the run's, else the template's), shots as earlier turns, the item."""
        out: list[Message] = []
        sys_text = system if system is not None else self.system(item.lang)
        if sys_text:
            out.append({"role": "system", "content": sys_text})
        for shot in shots:
            out.append({"role": "user", "content": self.user_text(shot)})
            out.append({"role": "assistant", "content": self.shot_answer(shot)})
        out.append({"role": "user", "content": self.user_text(item, rotation)})
        return out


@lru_cache(maxsize=16)
def load_template(ref: str = "default") -> Template:
    """A bundled template by name, or a YAML file by path."""
    path = Path(ref)
    if path.suffix in {".yaml", ".yml"}:
        if not path.is_file():
            raise QianmoError("no such template file", file=ref)
        text, where = path.read_text(encoding="utf-8"), ref
    else:
        bundled = resources.files("qianmo.evaluate.data.templates").joinpath(f"{ref}.yaml")
        if not bundled.is_file():
            raise QianmoError(f"no bundled template {ref!r}", field="template")
        text, where = bundled.read_text(encoding="utf-8"), f"{ref}.yaml"
    data = parse_template(text, where)
    return Template(data.name, data.version, data.langs, where)


def pick_shots(candidates: list[Item], item: Item, k: int, seed: int = 0) -> list[Item]:
    """k examples of the item's kind, answer type and language, the same for every run:
    ordered by a hash of (seed, record id), never by the database's whim."""
    if k <= 0:
        return []
    fit = [
        c
        for c in candidates
        if c.kind == item.kind and c.answer_type == item.answer_type and c.lang == item.lang
    ]
    fit.sort(key=lambda c: hashlib.sha256(f"{seed}:{c.record_id}".encode()).hexdigest())
    return fit[:k]
