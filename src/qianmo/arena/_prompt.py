"""What a target is sent: the attacker's turns, any untrusted context, and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qianmo.standard import Record


@dataclass(frozen=True)
class Prompt:
    """An attack as sent; `parent` is the prompt it was converted from (None for the original)."""

    turns: tuple[str, ...]
    lang: str = "en"
    injected_context: str | None = None
    system_prompt: str | None = None
    converter: str | None = None
    parent: Prompt | None = None

    @classmethod
    def of(cls, record: Record) -> Prompt:
        c = record.content
        return cls(
            turns=tuple(c["turns"]),
            lang=record.lang if record.lang in {"en", "zh"} else "en",
            injected_context=c.get("injected_context"),
            system_prompt=c.get("system_prompt"),
        )

    def derive(self, converter: str, turns: tuple[str, ...]) -> Prompt:
        return replace(self, turns=turns, converter=converter, parent=self)

    @property
    def lineage(self) -> tuple[str, ...]:
        """Converter names from the original to this prompt, in the order applied."""
        chain: list[str] = []
        node: Prompt | None = self
        while node is not None and node.converter is not None:
            chain.append(node.converter)
            node = node.parent
        return tuple(reversed(chain))

    @property
    def root(self) -> Prompt:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def fill(self, canary: str) -> Prompt:
        """The `{canary}` slots filled in (before conversion, so encodings carry it too)."""
        return replace(
            self,
            turns=tuple(t.replace("{canary}", canary) for t in self.turns),
            injected_context=(
                self.injected_context.replace("{canary}", canary) if self.injected_context else None
            ),
        )
