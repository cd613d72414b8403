"""Security sources and public benchmark formats: CVE JSON 5, NVD API 2.0, ATT&CK STIX, CWE,
CAPEC, OSV/GHSA, CISA KEV and Sigma as `document` records with derived `qa`/`mcq` items and id
hierarchies; CyberMetric, SecEval, CTIBench, CyberSecEval, garak, Tensor Trust and red-team CSV
lists as eval-only records."""

from qianmo.ingest.sources import _registered  # noqa: F401  (registers the formats)
from qianmo.ingest.sources._attack import read_attack
from qianmo.ingest.sources._capec import read_capec
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import (
    Rejected,
    Relation,
    SourceError,
    SourceObject,
)
from qianmo.ingest.sources._ctibench import read_ctibench
from qianmo.ingest.sources._cve import parse_cve, read_cve
from qianmo.ingest.sources._cwe import read_cwe
from qianmo.ingest.sources._derive import derive_items
from qianmo.ingest.sources._formats import FORMATS, SourceFormat, detect
from qianmo.ingest.sources._kev import read_kev
from qianmo.ingest.sources._mcq_bench import read_cybermetric, read_seceval
from qianmo.ingest.sources._nvd import read_nvd
from qianmo.ingest.sources._osv import read_osv
from qianmo.ingest.sources._redteam import (
    read_cyberseceval,
    read_garak,
    read_redteam_csv,
    read_tensortrust,
)
from qianmo.ingest.sources._run import SourceImport, import_source
from qianmo.ingest.sources._sigma import read_sigma
from qianmo.ingest.sources._sync import SYNC_JOB, parse_interval, schedule_sync, sync_source
from qianmo.ingest.sources._write import WriteCounts

__all__ = [
    "FORMATS",
    "SYNC_JOB",
    "Catalog",
    "Rejected",
    "Relation",
    "SourceError",
    "SourceFormat",
    "SourceImport",
    "SourceObject",
    "WriteCounts",
    "derive_items",
    "detect",
    "import_source",
    "parse_cve",
    "parse_interval",
    "read_attack",
    "read_capec",
    "read_ctibench",
    "read_cve",
    "read_cwe",
    "read_cybermetric",
    "read_cyberseceval",
    "read_garak",
    "read_kev",
    "read_nvd",
    "read_osv",
    "read_redteam_csv",
    "read_seceval",
    "read_sigma",
    "read_tensortrust",
    "schedule_sync",
    "sync_source",
]
