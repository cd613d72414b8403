"""Ingest: readers for generic files (and, under `sources/`, for security sources and public
benchmark formats), mappings onto the data standard, and imports as resumable jobs."""

import importlib
import importlib.util

from qianmo.ingest import _columnar, _documents, _tabular  # noqa: F401 (register the readers)
from qianmo.ingest._convert import Defaults, build_record
from qianmo.ingest._imports import (
    count_rejected,
    get_import,
    list_imports,
    problem_line,
    rejected_rows,
)
from qianmo.ingest._ingest import ingest_file
from qianmo.ingest._inputs import expand_inputs
from qianmo.ingest._job import JOB_KIND, run_ingest
from qianmo.ingest._mapping import TRANSFORMS, Mapping, load_mapping, mapping_from_dict
from qianmo.ingest._pipeline import (
    ImportSummary,
    IngestOptions,
    Progress,
    StrictAbort,
    content_sha256,
)
from qianmo.ingest._registry import (
    ReaderSpec,
    ReadOptions,
    Row,
    detect_format,
    formats,
    get_reader,
    read_rows,
    reader,
)

__all__ = [
    "JOB_KIND",
    "TRANSFORMS",
    "Defaults",
    "ImportSummary",
    "IngestOptions",
    "Mapping",
    "Progress",
    "ReadOptions",
    "ReaderSpec",
    "Row",
    "StrictAbort",
    "build_record",
    "content_sha256",
    "count_rejected",
    "detect_format",
    "expand_inputs",
    "formats",
    "get_import",
    "get_reader",
    "ingest_file",
    "list_imports",
    "load_mapping",
    "mapping_from_dict",
    "problem_line",
    "read_rows",
    "reader",
    "rejected_rows",
    "run_ingest",
]

# Readers of security sources and benchmark formats live in `qianmo.ingest.sources`.
if importlib.util.find_spec("qianmo.ingest.sources") is not None:
    importlib.import_module("qianmo.ingest.sources")
