"""Requests the rules forbid outright, found before reading a single record.

The filter's values for the fields the rules look at (status, TLP, organisation,
classification, personal information, licence) are tried on probe records that are otherwise
as permissive as possible; when `decide()` denies every probe, no selected record could pass.
"""

from __future__ import annotations

import itertools
from collections import Counter

from pydantic import ValidationError

from qianmo.circulate._decide import decide
from qianmo.circulate._request import ReleaseRequest
from qianmo.standard import Record
from qianmo.store import RecordFilter

PROBED = ("status", "tlp", "org", "classification", "personal_info", "license")
BASE = {"status": ("accepted",), "tlp": ("CLEAR",), "classification": ("general",)}
BASE_MORE = {"personal_info": ("none",), "license": ("CC0-1.0",)}


def _probe(values: dict[str, str]) -> Record | None:
    try:
        return Record.model_validate(
            {
                "kind": "document",
                "content": {"text": "probe"},
                "status": values["status"],
                "classification": values["classification"],
                "personal_info": values["personal_info"],
                "source": {
                    "name": "probe",
                    "org": values["org"] or None,
                    "tlp": values["tlp"],
                    "license": values["license"],
                },
            }
        )
    except ValidationError:
        return None  # a value no record can hold: the filter selects nothing there


def refusal(request: ReleaseRequest) -> str | None:
    """Why the request is forbidden outright, or None."""
    terms = dict(RecordFilter.parse(request.filters).terms)
    if not any(key in terms for key in PROBED if key != "org"):
        return None
    audience_orgs = sorted(
        request.audience.orgs | {o for orgs in request.recipient_orgs() for o in orgs}
    )
    choices = {**BASE, **BASE_MORE, "org": tuple(audience_orgs) or ("",)}
    choices.update({k: v for k, v in terms.items() if k in PROBED})
    verdicts: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for combo in itertools.islice(itertools.product(*choices.values()), 512):
        probe = _probe(dict(zip(choices, combo, strict=True)))
        if probe is None:
            continue
        verdict = decide(probe, request)
        if verdict.allowed:
            return None
        verdicts[str(verdict.rule)] += 1
        reasons.setdefault(str(verdict.rule), verdict.reason)
    if not verdicts:
        return None
    rule = verdicts.most_common(1)[0][0]
    filters = " ".join(request.filters)
    return f"{filters}: forbidden by {rule} ({reasons[rule]})"
