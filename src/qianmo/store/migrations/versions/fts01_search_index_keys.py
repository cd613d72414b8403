"""Search index keyed for updates: editing or deleting a record no longer scans the index.

The FTS5 table keeps record ids in an UNINDEXED column, so its update and delete triggers
found a record's entry by scanning every row: each edit cost O(records), which the quality
pipeline (a new version per changed record) paid on every record. A small table now maps each
record id to its FTS rowid; the triggers go through it. (The records' own rowids are not used:
VACUUM may renumber them, the primary key being text.) PostgreSQL's trigram index is a plain
index on the column and needs nothing.

Revision ID: fts01
Revises: annotate02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "fts01"
down_revision: str | None = "annotate02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRY = "(SELECT fts_rowid FROM records_fts_keys WHERE record_id = old.id)"

_UPGRADE = [
    "CREATE TABLE records_fts_keys (record_id VARCHAR(26) PRIMARY KEY, fts_rowid INTEGER NOT NULL)",
    "INSERT INTO records_fts_keys (record_id, fts_rowid) SELECT record_id, rowid FROM records_fts",
    "DROP TRIGGER records_fts_ai",
    "DROP TRIGGER records_fts_ad",
    "DROP TRIGGER records_fts_au",
    "CREATE TRIGGER records_fts_ai AFTER INSERT ON records BEGIN "
    "INSERT INTO records_fts(record_id, search_text) VALUES (new.id, new.search_text); "
    "INSERT OR REPLACE INTO records_fts_keys(record_id, fts_rowid) "
    "VALUES (new.id, last_insert_rowid()); END",
    "CREATE TRIGGER records_fts_ad AFTER DELETE ON records BEGIN "
    f"DELETE FROM records_fts WHERE rowid = {_ENTRY}; "
    "DELETE FROM records_fts_keys WHERE record_id = old.id; END",
    "CREATE TRIGGER records_fts_au AFTER UPDATE OF search_text ON records BEGIN "
    f"DELETE FROM records_fts WHERE rowid = {_ENTRY}; "
    "DELETE FROM records_fts_keys WHERE record_id = old.id; "
    "INSERT INTO records_fts(record_id, search_text) VALUES (new.id, new.search_text); "
    "INSERT OR REPLACE INTO records_fts_keys(record_id, fts_rowid) "
    "VALUES (new.id, last_insert_rowid()); END",
]

_DOWNGRADE = [
    "DROP TRIGGER records_fts_ai",
    "DROP TRIGGER records_fts_ad",
    "DROP TRIGGER records_fts_au",
    "CREATE TRIGGER records_fts_ai AFTER INSERT ON records BEGIN "
    "INSERT INTO records_fts(record_id, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER records_fts_ad AFTER DELETE ON records BEGIN "
    "DELETE FROM records_fts WHERE record_id = old.id; END",
    "CREATE TRIGGER records_fts_au AFTER UPDATE OF search_text ON records BEGIN "
    "DELETE FROM records_fts WHERE record_id = old.id; "
    "INSERT INTO records_fts(record_id, search_text) VALUES (new.id, new.search_text); END",
    "DROP TABLE records_fts_keys",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _DOWNGRADE:
            op.execute(statement)
