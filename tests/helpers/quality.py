"""A small corpus with planted duplicates, near duplicates, PII, secrets and payloads."""

from __future__ import annotations

import base64

from qianmo.standard import Record
from tests.helpers.records import make_record

BASE_EN = (
    "Apache Log4j2 versions before 2.15.0 let a remote attacker who can control log messages "
    "execute arbitrary code loaded from LDAP servers when message lookup substitution is "
    "enabled. Upgrade to 2.17.1, remove the JndiLookup class from the classpath, and block "
    "outbound LDAP from application servers; watch for ${jndi: strings in request logs."
)
BASE_ZH = (
    "Apache Log4j2 在 2.15.0 之前的版本中存在远程代码执行漏洞，攻击者只要能够控制日志内容，"
    "就可以通过 JNDI 查找从 LDAP 服务器加载并执行任意代码。建议升级到 2.17.1 版本，"
    "从类路径中删除 JndiLookup 类，并阻断应用服务器向外的 LDAP 连接，同时检查请求日志。"
)
# differs from BASE_EN in one word: a near duplicate
NEAR_EN = BASE_EN.replace("remote attacker", "remote adversary")
NEAR_ZH = BASE_ZH.replace("建议升级到", "强烈建议升级到")
# shares its opening with BASE_EN but says something else: similar, not a duplicate
SIMILAR_EN = (
    "Apache Log4j2 versions before 2.15.0 let a remote attacker who can control log messages "
    "trigger a denial of service through recursive lookups in thread context maps. Version "
    "2.16.0 disabled lookups by default, and 2.17.0 fixed the recursion; configuration files "
    "using context lookups should be reviewed before upgrading production clusters."
)
ELF_BLOB = base64.b64encode(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 2).decode()


def quality_corpus() -> list[Record]:
    src = {"name": "feed", "org": "org-a", "license": "CC-BY-4.0", "tlp": "CLEAR"}
    other_org = {**src, "org": "org-b", "tlp": "AMBER"}
    return [
        make_record(content={"text": BASE_EN}, source=src, published_at="2021-12-10"),
        make_record(content={"text": NEAR_EN}, source=src, published_at="2021-12-11"),
        make_record(content={"text": BASE_EN}, source={**src, "name": "mirror"}),
        make_record(content={"text": NEAR_EN + " Patch now."}, source=other_org),
        make_record(content={"text": SIMILAR_EN}, source=src),
        make_record(content={"text": BASE_ZH}, source=src, lang="und"),
        make_record(content={"text": NEAR_ZH}, source=src, lang="und"),
        make_record(
            content={
                "text": "泄露名单：张三，手机13812345678，身份证11010519491231002X，"
                "银行卡4111111111111111。"
            },
            source=src,
            lang="zh",
        ),
        make_record(
            content={
                "text": "Leaked config from the repository:\n"
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
            },
            source=src,
        ),
        make_record(
            content={"text": f"Dropper recovered from the host, base64: {ELF_BLOB}"}, source=src
        ),
        make_record(content={"text": "too short"}, source=src),
    ]
