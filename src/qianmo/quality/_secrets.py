"""`secrets`: detect-secrets' pattern detectors on record text; found values are redacted.

Its entropy detectors (and its public-IP detector) are left out on purpose: on ordinary
lines they flagged about half, including public IPs and quoted hashes, which in a security
corpus are content. The pattern detectors below found every planted secret with no false
flags on security text (see tests/quality/test_secrets.py).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector
from pydantic import Field

from qianmo.quality._fields import map_text, texts
from qianmo.quality._step import Step, StepOptions, Verdict, register_step, set_flag
from qianmo.standard import Kind, Record

DETECTORS = [
    ("aws", "AWSKeyDetector"),
    ("artifactory", "ArtifactoryDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"),
    ("basic_auth", "BasicAuthDetector"),
    ("cloudant", "CloudantDetector"),
    ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("ibm_cloud_iam", "IbmCloudIamDetector"),
    ("ibm_cos_hmac", "IbmCosHmacDetector"),
    ("jwt", "JwtTokenDetector"),
    ("keyword", "KeywordDetector"),
    ("mailchimp", "MailchimpDetector"),
    ("npm", "NpmDetector"),
    ("openai", "OpenAIDetector"),
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),
    ("softlayer", "SoftlayerDetector"),
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
]
# detect-secrets only spots the BEGIN line of a private key; the whole block is the secret.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)", re.S
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_.+/=-]*")
# The keyword detector reads `key: value` as a secret only in config-like files.
_CONFIG_NAMES = {"yaml": "x.yaml", "yml": "x.yaml", "ini": "x.ini", "python": "x.py"}


class SecretsOptions(StepOptions):
    redact: bool = Field(True, description="replace what is found; off: flag it unresolved")
    detectors: list[str] = Field(
        default_factory=lambda: [name for name, _ in DETECTORS],
        description="detect-secrets plugin modules to use",
    )


@cache
def _plugins(names: tuple[str, ...]) -> list[Any]:
    import importlib

    wanted = dict(DETECTORS)
    return [
        getattr(importlib.import_module(f"detect_secrets.plugins.{n}"), wanted[n])()
        for n in names
        if n in wanted
    ]


# Cheap gates in front of the per-line, per-detector scan, which was the step's main cost:
# most texts match none and skip it. A gate must match wherever its detector could.
# Lower-case gates run on the case-folded text (a case-insensitive regex was 10× slower).
# The keyword detector needs a denylisted word (each contains one of these stems) followed
# by an assignment, comparison, call or quoted value, or preceded by `==`: the bare stems
# sent nearly every security text ("key", "password" are common words there) to the scan.
# "pw" covers "pwd" (a stem is always followed by `\w*` or `\S*`); substring tests of the
# words run in C, 5× cheaper than the alternation as a regex
_STEM_WORDS = ("key", "pass", "pw", "secret", "token", "contrase")
_STEMS = "|".join(_STEM_WORDS)
# a keyword, then `=`, `:` or spaces, then a long value
_KEYWORD_VALUE = rf"(?:{_STEMS})\w*[\"'\]]{{0,3}}(?: *[:=]| +[\"']?[\w-]{{24}})"
_LOWER_GATES = {
    "keyword": [
        rf"(?:{_STEMS})(?:\w*[\"'\]]{{0,3}}\s*(?:[:=(]|!=|\.assign\()|\S*\s*[\"'`])",
        rf"[!=]{{2,3}}\s*\w*(?:{_STEMS})",
    ],
    "cloudant": [_KEYWORD_VALUE, r"cloudant\.com"],
    "ibm_cloud_iam": [_KEYWORD_VALUE],
    "ibm_cos_hmac": [_KEYWORD_VALUE],
    "softlayer": [_KEYWORD_VALUE, r"api\.softlayer\.com"],
    "aws": [r"aws.{0,20}?(?:key|pwd|pw|pass|token)"],
    "slack": [r"xox[abposr]-", r"hooks\.slack\.com"],
}
# Detectors whose own patterns start without a literal get a literal-led gate instead;
# the others' own patterns are their gates.
_GATES = {
    "aws": [r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"],
    "artifactory": [r"AKC[a-zA-Z0-9]{10}|AP[\dA-F][a-zA-Z0-9]{8}"],
    "mailchimp": [r"-us[0-9]"],
    "stripe": [r"k_live_[0-9a-zA-Z]{24}"],
    "telegram_token": [r":[0-9A-Za-z_-]{35}"],
    "discord": [r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}"],
}


Gates = tuple[tuple[re.Pattern[str], ...], ...]


@cache
def _gates(names: tuple[str, ...]) -> Gates:
    """(gates needing a stem, other gates on the lower-cased text, gates on the text).

    Kept apart: one alternation of them all lost the regex engine's literal-prefix search
    and was 10× slower than trying each in turn.
    """
    lower = list(dict.fromkeys(g for n in names for g in _LOWER_GATES.get(n, ())))
    plain = [g for n in names for g in _GATES.get(n, ())]
    wanted = dict(DETECTORS)
    for name, plugin in zip([n for n in names if n in wanted], _plugins(names), strict=True):
        if name in _GATES or name in _LOWER_GATES:
            continue  # gated above
        for p in getattr(plugin, "denylist", ()):
            if p.pattern:
                plain.append(f"(?i:{p.pattern})" if p.flags & re.I else p.pattern)
    stem = tuple(re.compile(g) for g in lower if _STEMS in g)
    rest = tuple(re.compile(g) for g in lower if _STEMS not in g)
    return stem, rest, tuple(map(re.compile, plain))


def _may_hold_secret(text: str, names: tuple[str, ...]) -> bool:
    stem, rest, plain = _gates(names)
    # casefold, not lower: the detectors' re.I also matches "ſ" for "s" (casefold maps it)
    low = text.casefold()
    if stem and any(w in low for w in _STEM_WORDS) and any(g.search(low) for g in stem):
        return True
    return any(g.search(low) for g in rest) or any(g.search(text) for g in plain)


def find_secrets(
    text: str, names: tuple[str, ...], filename: str = "x.txt"
) -> list[tuple[str, str]]:
    """(type, value) of each secret in the text."""
    found: list[tuple[str, str]] = [
        ("Private Key", m.group(0)) for m in _PRIVATE_KEY.finditer(text)
    ]
    if not _may_hold_secret(text, names):
        return found
    plugins = _plugins(names)
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > 4000:  # minified blobs: the patterns below are line-oriented
            line = line[:4000]
        for plugin in plugins:
            for value in _values(plugin, line, filename, number):
                if value and "<SECRET:" not in value and "<PII:" not in value:
                    found.append((plugin.secret_type, value))
    return found


def _values(plugin: Any, line: str, filename: str, number: int) -> list[str]:
    """The secret text each detector matched on a line.

    A pattern detector's own answer is `findall`'s, which for a pattern with a group is the
    group (GitHub's yields just `ghp`); the whole match is used unless a group holds the
    secret itself (a long group, such as the key after `aws_secret_access_key =`).
    """
    if type(plugin).analyze_string is not RegexBasedDetector.analyze_string:
        found = plugin.analyze_line(filename=filename, line=line, line_number=number)
        values = [s.secret_value for s in found]
        if values and plugin.secret_type == "JSON Web Token":
            # its pattern ends lazily and leaves the signature out; take the whole token
            return _JWT.findall(line)
        return values
    out = []
    for pattern in plugin.denylist:
        for m in pattern.finditer(line):
            groups = [g for g in m.groups() if g]
            longest = max(groups, key=len, default="")
            out.append(longest if len(longest) >= 16 else m.group(0))
    return out


def _label(kind: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_")


@register_step
class Secrets(Step):
    name = "secrets"
    Options = SecretsOptions

    def process(self, record: Record) -> Verdict:
        options = self.options
        assert isinstance(options, SecretsOptions)
        filename = "x.txt"
        if record.kind is Kind.CODE:
            filename = _CONFIG_NAMES.get(str(record.content.get("language", "")).lower(), "x.txt")
        found: list[tuple[str, str]] = []
        for text in texts(record):
            found.extend(find_secrets(text, tuple(options.detectors), filename))
        if not found:
            return Verdict(flags=("secret",) if "secret" in record.quality.flags else ())
        counts = Counter(_label(kind) for kind, _ in found)
        changed = False
        if options.redact:
            # longest first, so a value inside another is not half-replaced
            values = sorted({(v, _label(k)) for k, v in found}, key=lambda p: -len(p[0]))

            def redact(text: str) -> str:
                for value, label in values:
                    text = text.replace(value, f"<SECRET:{label}>")
                return text

            changed = map_text(record, redact)
        info = {"resolved": options.redact, "found": dict(sorted(counts.items()))}
        changed = set_flag(record, "secret", info) or changed
        review = None if options.redact else "secret:unresolved"
        detail = {"found": info["found"]}
        return Verdict(changed=changed, review=review, flags=("secret",), detail=detail)
