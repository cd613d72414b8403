"""Arena test helpers: planted behaviours for the local OpenAI-compatible server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qianmo.llm import OpenAIBackend, model_config
from qianmo.standard import Record, validate_record

SECRET_RE = re.compile(r"password is (\S+?)[.\s]")
CANARY_RE = re.compile(r"CANARY-[0-9A-F]{8}")


def cyberseceval_records(path: Path) -> list[Record]:
    """CyberSecEval prompt-injection cases as redteam records (the test reads the file itself;
    `qianmo arena import` goes through the ingest adapter)."""
    out = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        indirect = item["injection_type"] == "indirect"
        out.append(
            validate_record(
                {
                    "kind": "redteam",
                    "content": {
                        "turns": [item["user_input"]],
                        "system_prompt": item["test_case_prompt"],
                        "category": "indirect_injection" if indirect else "direct_injection",
                        "variant": item["injection_variant"],
                        "judge_question": item["judge_question"],
                    },
                    "lang": "en",
                    "domain": "aisec.prompt_injection",
                    "source": {
                        "name": "cyberseceval",
                        "original_id": str(item["prompt_id"]),
                        "license": "MIT",
                    },
                }
            )
        )
    return out


def last_user(messages: list[dict[str, Any]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def system_of(messages: list[dict[str, Any]]) -> str:
    return " ".join(m["content"] for m in messages if m["role"] == "system")


def yes_if_in_reply(marker: str):  # type: ignore[no-untyped-def]
    """A judge model that answers from the judged reply: yes when `marker` is in it."""

    def judge(messages: list[dict[str, Any]]) -> str:
        prompt = last_user(messages)
        reply = prompt.split("<<<\n", 1)[-1].rsplit("\n>>>", 1)[0]
        return "yes" if marker in reply else "no"

    return judge


def backend(name: str, url: str, **overrides: Any) -> OpenAIBackend:
    """A `qianmo.llm` backend for model `name` at `url` (a planted server, usually)."""
    return OpenAIBackend(model_config(name, base_url=url, **overrides))
