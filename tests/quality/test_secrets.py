"""secrets: the chosen detect-secrets detectors find planted secrets and leave security text."""

from __future__ import annotations

import pytest

from qianmo.quality import Secrets, find_secrets
from qianmo.quality._secrets import DETECTORS, _may_hold_secret
from qianmo.quality._step import StepStats
from tests.helpers.records import make_record

NAMES = tuple(name for name, _ in DETECTORS)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz0123456789abcdefghijklmnop\n"
    "QRSTUVWXYZabcdefghijklmnopqrstuv==\n-----END RSA PRIVATE KEY-----"
)
PLANTED = [
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("token: ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ('password = "hunter2secret"', "hunter2secret"),
    ("curl https://admin:s3cretPass@10.0.0.5/api", "s3cretPass"),
    ("slack xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "xoxb-1234"),
    ("stripe sk_live_abcdefghijklmnopqrstuvwx", "sk_live_abcdefghijklmnopqrstuvwx"),
    (
        "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (PRIVATE_KEY, "MIIEowIBAAKCAQEA"),
]

SECURITY_TEXT = [
    "The C2 server at 185.220.101.4 served payloads over 443.",
    'Sample hash "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" was seen.',
    "IOC: 44d88612fea8a8f36de82e1278abb02f (EICAR md5) and 2a05:d018::1",
    "The password policy requires 12 characters; rotate API keys every 90 days.",
    "Use the token bucket algorithm; the key insight is rate limiting.",
    "payload: <script>alert(document.cookie)</script> and ' OR 1=1 --",
    "base64 payload dGhpcyBpcyBhIHRlc3Qgb2YgYSBiYXNlNjQgc3RyaW5nIHdpdGggZW50cm9weQ==",
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run persistence",
]


@pytest.mark.parametrize(("text", "secret"), PLANTED)
def test_every_planted_secret_is_found(text: str, secret: str) -> None:
    values = [v for _, v in find_secrets(text, NAMES)]
    assert any(secret in v for v in values), values


@pytest.mark.parametrize("text", SECURITY_TEXT)
def test_security_text_raises_no_false_flags(text: str) -> None:
    assert find_secrets(text, NAMES) == []


def test_step_redacts_whole_values_and_flags_resolved() -> None:
    text = "\n".join(t for t, _ in PLANTED) + "\nC2 185.220.101.4"
    rec = make_record(content={"text": text})
    step, stats = Secrets(), StepStats("secrets")
    verdict = step.run(rec, stats, "r")
    assert verdict.changed and verdict.flags == ("secret",)
    out = rec.text()
    for _, secret in PLANTED:
        assert secret not in out
    assert "<SECRET:AWS_ACCESS_KEY>" in out and "185.220.101.4" in out
    assert "-----BEGIN" not in out
    assert rec.quality.flags["secret"]["resolved"] is True
    assert not step.run(rec, stats, "r").changed


V = "q7Xk2Lm9Pz4Rt8Wv3Ny6Bc1Df5Gh0Jk"  # 31 mixed characters, sliced to each format's length
HEX64 = "0123456789abcdef" * 4
GATED = [
    f"mailchimp key {HEX64[:32]}-us12",
    f"bot 1234567890:{(V + V)[:35]}",
    f"discord M{(V + V)[:23]}.{V[:6]}.{(V + V)[:27]}",
    f'artifactory "AKCp5{V[:12]}"',
    f"SG.{(V + V)[:22]}.{(V + V)[:43]}",
    f"twilio AC{HEX64[:32]}",
    f"softlayer_api_key = {HEX64}",
    f"ibm_cloud_iam_api_key: {(V + V)[:44]}",
    f"cloudant_password = {HEX64}",
    f"CLOUDANT_PASSWORD   {HEX64}",
    f"gitlab glpat-{V[:20]}",
    f"AccountKey={(V * 3)[:88]}",
    f'if ("{V[:12]}" == user_password) return',
    f"aws secret key is '{(V + V)[:40]}'",
    f'db_paſsword = "{V[:16]}"',  # re.I matches ſ as s: the gate must as well
]


@pytest.mark.parametrize("text", GATED)
def test_cheap_gates_let_every_detector_see_its_secrets(text: str) -> None:
    assert find_secrets(text, NAMES), text


def test_secret_words_in_prose_skip_the_scan() -> None:
    prose = "Rotate the API key and the password; a leaked token or secret grants access."
    assert not _may_hold_secret(prose, NAMES)
    assert _may_hold_secret('api_key = "abc"', NAMES)
