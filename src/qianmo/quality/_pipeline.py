"""Pipelines in YAML: an ordered list of steps, each with its options.

```yaml
name: my-pipeline
steps:
  - normalize
  - near_dedup:
      threshold: 0.85
```
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from qianmo._yaml import compose, safe_load
from qianmo.errors import QianmoError
from qianmo.quality._step import Step, step_class, step_names

DEFAULT_PIPELINE = "default.yaml"


class StepSpec(BaseModel):
    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class PipelineSpec(BaseModel):
    name: str = "custom"
    steps: list[StepSpec]

    def build(self) -> list[Step]:
        return [build_step(s) for s in self.steps]


def build_step(spec: StepSpec, *, file: str | None = None, line: int | None = None) -> Step:
    cls = step_class(spec.name)
    try:
        options = cls.Options.model_validate(spec.options)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise QianmoError(
            first["msg"], file=file, line=line, field=f"{spec.name}.{where}" if where else spec.name
        ) from e
    return cls(options)


def _step_spec(item: Any, where: str, file: str | None, line: int | None) -> StepSpec:
    if isinstance(item, str):
        return StepSpec(name=item)
    if isinstance(item, dict) and len(item) == 1:
        name, options = next(iter(item.items()))
        if options is None:
            options = {}
        if isinstance(name, str) and isinstance(options, dict):
            return StepSpec(name=name, options=options)
    raise QianmoError(
        "write a step as NAME or as NAME: {options}", file=file, line=line, field=where
    )


def parse_pipeline(text: str, *, file: str | None = None) -> PipelineSpec:
    """A pipeline from YAML text; errors name the file, line and step."""
    try:
        node = compose(text)
        data = safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise QianmoError(
            f"not valid YAML: {getattr(e, 'problem', e)}", file=file, line=line
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise QianmoError("a pipeline is a mapping with a non-empty `steps` list", file=file)
    lines = _step_lines(node)
    specs = []
    for i, item in enumerate(data["steps"]):
        line = lines[i] if i < len(lines) else None
        spec = _step_spec(item, f"steps[{i}]", file, line)
        if spec.name not in step_names():
            known = ", ".join(step_names())
            raise QianmoError(
                f"unknown step {spec.name!r} (one of: {known})",
                file=file,
                line=line,
                field=f"steps[{i}]",
            )
        build_step(spec, file=file, line=line)  # validates the options now, not mid-run
        specs.append(spec)
    return PipelineSpec(name=str(data.get("name") or Path(file or "custom").stem), steps=specs)


def _step_lines(node: Any) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_pipeline(path: Path | str) -> PipelineSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise QianmoError(f"cannot read pipeline: {e.strerror}", file=str(p)) from e
    return parse_pipeline(text, file=str(p))


def default_pipeline() -> PipelineSpec:
    text = resources.files("qianmo.quality").joinpath("data", DEFAULT_PIPELINE).read_text("utf-8")
    return parse_pipeline(text, file=DEFAULT_PIPELINE)


def pipeline_of_steps(names: list[str]) -> PipelineSpec:
    """`--steps a,b`: those steps with the options the default pipeline gives them."""
    defaults = {s.name: s for s in default_pipeline().steps}
    specs = []
    for name in names:
        if name not in step_names():
            known = ", ".join(step_names())
            raise QianmoError(f"unknown step {name!r} (one of: {known})", field="--steps")
        specs.append(defaults.get(name, StepSpec(name=name)))
    return PipelineSpec(name="steps:" + ",".join(names), steps=specs)
