"""Claiming an item under a lease: exactly k per (item, question version), nobody twice.

A claim is one `UPDATE annotation_slots … WHERE (item, question, slot) IN (SELECT … LIMIT 1)
RETURNING …`: on PostgreSQL the inner select takes the free slot `FOR UPDATE SKIP LOCKED`, so
concurrent claims take different slots without waiting (and the same statement writes the
lease row and reads the record: one round trip); on SQLite `Database.write()` begins
IMMEDIATE, so claims run one at a time. Either way the unique constraints on slots and labels
refuse a second slot or label for the same person, and a claim that loses such a race is retried
in a fresh transaction.

Statements are Core, built once per (campaign, questions, viewer) and reused: building and
loading through the ORM cost several times the database work of a claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    Connection,
    Select,
    String,
    and_,
    any_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from qianmo.annotate._cache import (
    BY_NAME,
    CAMPAIGN_ROW,
    CAMPAIGN_TYPE,
    CampaignInfo,
    campaign_info,
)
from qianmo.annotate._config import LABEL_ROLES
from qianmo.annotate._questions import Question
from qianmo.annotate._tables import (
    ASSIGNMENTS,
    CAMPAIGNS,
    ITEMS,
    LABELS,
    MEMBERSHIPS,
    ORG_PARTNERS,
    ORGS,
    RECORDS,
    SLOTS,
    STATS,
    USERS,
)
from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.standard import Record, new_id, utcnow
from qianmo.store import (
    Database,
    Prepared,
    PreparedCache,
    Viewer,
    access_key,
    access_params,
    arg,
    to_record,
    visible_condition,
)

CLAIM_ATTEMPTS = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Task:
    """What an annotator is shown: the record and the questions — never anyone's labels.

    `data` is the record's document as stored (validated when it was written); `record` is it
    as a `Record`, validated on first use: the API sends the document as it is, and the
    validation a claim did for it was ~a tenth of a label's service CPU (profiled)."""

    assignment_id: str
    campaign: str
    item_id: str
    data: dict[str, Any]
    questions: list[Question]
    expires_at: datetime

    @cached_property
    def record(self) -> Record:
        return to_record(self.data)


@dataclass(frozen=True)
class Standing:
    """The annotator's standing in a campaign (their `annotator_stats` row)."""

    status: str
    labelled: int
    gold_seen: int


def aware(at: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


_member_org, _partner_org = ORGS.alias("o"), ORGS.alias("p")
_memberships, _org_partners = MEMBERSHIPS, ORG_PARTNERS


def _who_columns(leases_held: Any) -> tuple[Any, ...]:
    """WHO's columns: the user, their memberships and their organisations' partners (as
    `load_viewer`), their standing in the campaign, and `leases_held` (how many leases they
    hold there: a claim looks at them only if there are any)."""
    return (
        USERS.c.id,
        USERS.c.is_active,
        _member_org.c.name,
        _memberships.c.role,
        _partner_org.c.name,
        STATS.c.status,
        STATS.c.labelled,
        STATS.c.gold_seen,
        leases_held,
    )


def _who_joins(joined: Any, campaign_id: Any) -> Any:
    """`joined` (USERS among its tables) with what `_who_columns` reads, in `campaign_id`."""
    return (
        joined.outerjoin(_memberships, _memberships.c.user_id == USERS.c.id)
        .outerjoin(_member_org, _member_org.c.id == _memberships.c.org_id)
        .outerjoin(_org_partners, _org_partners.c.org_id == _member_org.c.id)
        .outerjoin(_partner_org, _partner_org.c.id == _org_partners.c.partner_id)
        .outerjoin(
            STATS,
            and_(STATS.c.campaign_id == campaign_id, STATS.c.annotator_id == USERS.c.id),
        )
    )


def _leases_held(held: Any, campaign_id: Any, *outer: Any) -> Any:
    return (
        select(func.count())
        .where(
            held.c.campaign_id == campaign_id,
            held.c.annotator_id == USERS.c.id,
            held.c.state == "leased",
        )
        .correlate(*outer)
        .scalar_subquery()
    )


# Who is asking, by name, in campaign `cid`: one round trip instead of five.
WHO = Prepared(
    select(*_who_columns(_leases_held(ASSIGNMENTS, arg("cid"), USERS)))
    .select_from(_who_joins(USERS, arg("cid")))
    .where(USERS.c.name == arg("user"))
)


WhoRows = list[tuple[Any, ...]]  # WHO's rows: one per membership and partner


def who(
    conn: Connection,
    info: CampaignInfo,
    user: str,
    roles: frozenset[str],
    known: WhoRows | None = None,
) -> tuple[str, Viewer, Standing | None, int]:
    """The user's id, viewer, standing and number of leases held, if they may take part in the
    campaign with `roles`; from WHO's rows as this transaction already read them (`known`:
    `own_lease_and_who`) or read now."""
    rows = WHO.run(conn, {"cid": info.id, "user": user}).rows if known is None else known
    if not rows or not rows[0][1]:
        raise NotFound(f"no active user {user!r}", object_id=user)
    uid, _, _, _, _, status, labelled, gold_seen, leases = rows[0]
    viewer = Viewer(
        name=user,
        orgs=frozenset(r[2] for r in rows if r[2] is not None),
        partner_orgs=frozenset(r[4] for r in rows if r[4] is not None),
        roles={r[2]: r[3] for r in rows if r[2] is not None},
    )
    cfg = info.config
    if not any(
        role in roles and (not cfg.orgs or org in cfg.orgs) and (not cfg.roles or role in cfg.roles)
        for org, role in viewer.roles.items()
    ):
        raise PolicyRefused(
            f"{user} may not take part in {info.name} this way", object_id=info.name
        )
    standing = None if status is None else Standing(status, labelled, gold_seen)
    return uid, viewer, standing, leases


def who_after_count(rows: WhoRows | None, status: str) -> WhoRows | None:
    """WHO's rows as read before a counted submit, as they stand after it: the status the
    count returned, one more labelled, one lease fewer (this one, ended); None when none were
    read or there is no standing to advance."""
    if not rows or rows[0][5] is None:
        return None
    return [(*r[:5], status, r[6] + 1, r[7], r[8] - 1) for r in rows]


_STANDING_COLUMNS = (
    "campaign_id",
    "annotator_id",
    "status",
    "labelled",
    "gold_seen",
    "gold_correct",
    "updated_at",
)
_NEW_STANDING = Prepared(insert(STATS).values({c: arg(c) for c in _STANDING_COLUMNS}))


def _new_standing(conn: Connection, info: CampaignInfo, uid: str) -> Standing:
    status = "qualifying" if info.config.qualification else "active"
    _NEW_STANDING.run(
        conn,
        {
            "campaign_id": info.id,
            "annotator_id": uid,
            "status": status,
            "labelled": 0,
            "gold_seen": 0,
            "gold_correct": 0,
            "updated_at": utcnow(),
        },
    )
    return Standing(status, 0, 0)


_RELEASE = Prepared(
    update(SLOTS)
    .where(SLOTS.c.assignment_id == arg("aid"), SLOTS.c.state == "leased")
    .values(state="free", annotator_id=None, assignment_id=None, lease_expires=None)
)
_END_LEASE = Prepared(
    update(ASSIGNMENTS)
    .where(ASSIGNMENTS.c.id == arg("aid"), ASSIGNMENTS.c.state == "leased")
    .values(state=arg("state"), finished_at=arg("at"))
)


def end_lease(conn: Connection, assignment_id: str, state: str, *, release: bool = True) -> bool:
    """Mark a lease skipped/discarded/expired/submitted; False if it was no longer leased."""
    done = _END_LEASE.run(conn, {"aid": assignment_id, "state": state, "at": utcnow()})
    if release:
        _RELEASE.run(conn, {"aid": assignment_id})
    return bool(done.rowcount)


_LEASES = Prepared(
    select(
        ASSIGNMENTS.c.id, ASSIGNMENTS.c.item_id, ASSIGNMENTS.c.gold, ASSIGNMENTS.c.expires_at
    ).where(
        ASSIGNMENTS.c.campaign_id == arg("cid"),
        ASSIGNMENTS.c.annotator_id == arg("uid"),
        ASSIGNMENTS.c.state == "leased",
    )
)
_HELD = Prepared(select(SLOTS.c.question_id).where(SLOTS.c.assignment_id == arg("aid")))


def _current_lease(conn: Connection, info: CampaignInfo, uid: str, now: datetime) -> Task | None:
    """The annotator's live lease (a reload shows the same item); expired ones are let go."""
    live = None
    for aid, item_id, gold, expires in _LEASES.run(conn, {"cid": info.id, "uid": uid}).rows:
        if aware(expires) > now and live is None:
            if gold:
                questions = [q for _, q in info.questions]
            else:
                held = {r[0] for r in _HELD.run(conn, {"aid": aid}).rows}
                questions = [q for qid, q in info.questions if qid in held]
            live = _task(conn, info, aid, item_id, questions, aware(expires))
        else:
            end_lease(conn, aid, "expired")
    return live


_RECORD_OF_ITEM = Prepared(
    select(RECORDS.c.data)
    .select_from(ITEMS.join(RECORDS, RECORDS.c.id == ITEMS.c.record_id))
    .where(ITEMS.c.id == arg("item"))
)


def item_record(conn: Connection, item_id: str) -> Record:
    """The record an annotation item shows (claims show it; submits check answers against it)."""
    return to_record(_item_data(conn, item_id))


def _item_data(conn: Connection, item_id: str) -> dict[str, Any]:
    data: dict[str, Any] = _RECORD_OF_ITEM.run(conn, {"item": item_id}).one()[0]
    return data


def _task(
    conn: Connection,
    info: CampaignInfo,
    aid: str,
    item_id: str,
    questions: list[Question],
    expires: datetime,
) -> Task:
    return Task(aid, info.name, item_id, _item_data(conn, item_id), questions, expires)


# Built claim statements, by everything baked into them (`access_key`): on SQLite the viewer's
# organisations are part of the access condition (their name is a parameter), so there is one
# entry per distinct (campaign, questions, organisations); on PostgreSQL they are parameters
# too, and one entry serves every member (the three variants take ~13.5 ms of Python to build
# and compile, median of 30, paid once per entry and process).
_STATEMENTS = PreparedCache(size=512)


def _orgs_as_arrays(dialect: str) -> bool:
    """Whether claims take the viewer's organisations as array parameters (`= ANY`, PostgreSQL
    only): the statement's cache key, its access condition and its parameters must agree, or
    a statement with one member's organisations baked in would serve another."""
    return dialect == "postgresql"


def claim_statement(info: CampaignInfo, viewer: Viewer, dialect: str, variant: str) -> Prepared:
    """UPDATE one free (or expired) slot to leased for this annotator, returning it.

    Variants: `first` skips items the annotator skipped; `again` lets them come back after
    the others; `more` takes a slot of another question (`:qid`) on the chosen item (`:item`).
    """
    access = access_key(viewer, arrays=_orgs_as_arrays(dialect))
    key = (info.id, info.versions, dialect, variant, access)
    return _STATEMENTS.get(key, lambda: _build_claim(info, viewer, dialect, variant))


def _none(dialect: str, *where: Any) -> Any:
    """No row meets `where` (correlated with the slot being considered).

    On PostgreSQL an OFFSET keeps the planner from turning the check into an anti-join: it
    stays a lookup per slot considered, through the unique index on (item, question, person).
    As an anti-join, planned while the labels and leases tables were small (every connection's
    plan is made on its first claims and kept), PostgreSQL read all of this person's labels or
    leases for each claim: work that grows with the tables, however few slots the claim
    considers before it stops at the first fit."""
    if dialect != "postgresql":
        return ~exists().where(*where)
    return ~exists(select(literal(1)).where(*where).offset(0))


def _build_claim(info: CampaignInfo, viewer: Viewer, dialect: str, variant: str) -> Any:
    free, mine = SLOTS.alias("free"), SLOTS.alias("mine")
    passed = ("discarded", "skipped") if variant == "first" else ("discarded",)
    where = [
        or_(
            free.c.state == "free",
            and_(free.c.state == "leased", free.c.lease_expires < arg("now")),
        ),
        ITEMS.c.state == "open",
        visible_condition(viewer, name_as_arg=True, orgs_as_arrays=_orgs_as_arrays(dialect)),
        _none(
            dialect,
            mine.c.item_id == free.c.item_id,
            mine.c.question_id == free.c.question_id,
            mine.c.annotator_id == arg("uid"),
        ),
        _none(
            dialect,
            LABELS.c.item_id == free.c.item_id,
            LABELS.c.question_id == free.c.question_id,
            LABELS.c.annotator_id == arg("uid"),
        ),
        _none(
            dialect,
            ASSIGNMENTS.c.item_id == free.c.item_id,
            ASSIGNMENTS.c.annotator_id == arg("uid"),
            ASSIGNMENTS.c.state.in_(passed),
        ),
    ]
    if variant == "more":
        where += [free.c.item_id == arg("item"), free.c.question_id == arg("qid")]
    else:
        # Only the active question versions: slots of a replaced version may still be leased
        # when it is replaced, and must not come back when that lease ends.
        # On PostgreSQL an array parameter: one statement text for every campaign
        # (`visible_condition`'s `orgs_as_arrays`).
        active = (
            free.c.question_id == any_(arg("qids", ARRAY(String())))
            if dialect == "postgresql"
            else free.c.question_id.in_(info.question_ids)
        )
        where += [ITEMS.c.campaign_id == info.id, active]
    # Walk the campaign's open items in order (their index) and stop at the first fit; a filter
    # on the slots' campaign would have SQLite read and sort every slot of the campaign.
    pick: Select[Any] = (
        select(free.c.item_id, free.c.question_id, free.c.slot)
        .select_from(
            ITEMS.join(free, free.c.item_id == ITEMS.c.id).join(
                RECORDS, RECORDS.c.id == ITEMS.c.record_id
            )
        )
        .where(*where)
        .order_by(ITEMS.c.position)
        .limit(1)
    )
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True, of=free)
    claiming = (
        update(SLOTS)
        .where(tuple_(SLOTS.c.item_id, SLOTS.c.question_id, SLOTS.c.slot).in_(pick))
        .values(
            state="leased",
            annotator_id=arg("uid"),
            assignment_id=arg("aid"),
            lease_expires=arg("expires"),
        )
        .returning(SLOTS.c.item_id, SLOTS.c.question_id)
    )
    if dialect == "postgresql" and variant != "more":
        return _claim_lease_and_record(claiming, info)
    return claiming


def _claim_lease_and_record(claiming: Any, info: CampaignInfo) -> Select[Any]:
    """On PostgreSQL, one statement (one round trip) for three: the claiming UPDATE, the lease
    row for the slot it took (`INSERT … SELECT` from it) and the item's record. Data-modifying
    CTEs run exactly once, even unreferenced; SQLite has none, so there they stay three."""
    claimed = claiming.cte("claimed")
    lease = insert(ASSIGNMENTS).from_select(
        list(_LEASE_COLUMNS),
        select(
            arg("aid", ASSIGNMENTS.c.id.type),
            literal(info.id, ASSIGNMENTS.c.campaign_id.type),
            claimed.c.item_id,
            arg("uid", ASSIGNMENTS.c.annotator_id.type),
            literal("leased", ASSIGNMENTS.c.state.type),
            literal(False, ASSIGNMENTS.c.gold.type),
            arg("expires", ASSIGNMENTS.c.expires_at.type),
            arg("now", ASSIGNMENTS.c.created_at.type),
        ).select_from(claimed),
    )
    return (
        select(claimed.c.item_id, claimed.c.question_id, RECORDS.c.data)
        .select_from(
            claimed.join(ITEMS, ITEMS.c.id == claimed.c.item_id).join(
                RECORDS, RECORDS.c.id == ITEMS.c.record_id
            )
        )
        .add_cte(lease.cte("lease"))
    )


def _lease_slots(
    conn: Connection,
    info: CampaignInfo,
    viewer: Viewer,
    dialect: str,
    params: dict[str, Any],
) -> tuple[str, set[str], Any] | None:
    """Lease the first slot this annotator may take, then one of each other open question:
    (item, the question versions held, the item's record when the claim read it)."""
    first = None
    for variant in ("first", "again"):
        stmt = claim_statement(info, viewer, dialect, variant)
        first = stmt.run(conn, params).first()
        if first is not None:
            break
    if first is None:
        return None
    item_id, held = first[0], {first[1]}
    more = claim_statement(info, viewer, dialect, "more")
    for qid in info.question_ids:
        if qid not in held and more.run(conn, {**params, "item": item_id, "qid": qid}).first():
            held.add(qid)
    # on PostgreSQL the first claim also wrote the lease and read the record (`claim_statement`)
    return item_id, held, first[2] if dialect == "postgresql" else None


def _gold_item(
    conn: Connection, info: CampaignInfo, uid: str, viewer: Viewer, *, qualification: bool
) -> str | None:
    """A gold item this annotator has not been given before (qualification items first)."""
    query = (
        select(ITEMS.c.id)
        .select_from(ITEMS.join(RECORDS, RECORDS.c.id == ITEMS.c.record_id))
        .where(
            ITEMS.c.campaign_id == info.id,
            ITEMS.c.gold.is_not(None),
            visible_condition(viewer),
            ~exists().where(
                ASSIGNMENTS.c.item_id == ITEMS.c.id,
                ASSIGNMENTS.c.annotator_id == uid,
                ASSIGNMENTS.c.state != "expired",
            ),
        )
        .order_by(ITEMS.c.qualification.desc(), ITEMS.c.position)
        .limit(1)
    )
    if qualification:
        query = query.where(ITEMS.c.qualification.is_(True))
    return conn.execute(query).scalar_one_or_none()


def _gold_due(standing: Standing, rate: float) -> bool:
    # Deterministic mixing: the share of gold among what this person was given stays at `rate`.
    return rate > 0 and standing.gold_seen < rate * (standing.labelled + standing.gold_seen + 1)


def _open_campaign(db: Database, conn: Connection, name: str, now: datetime) -> CampaignInfo:
    row = BY_NAME.run(conn, {"name": name}).first()
    if row is None:
        raise NotFound(f"no annotation campaign {name!r}", object_id=name)
    return _check_open(campaign_info(db, conn, row), now)


def _check_open(info: CampaignInfo, now: datetime) -> CampaignInfo:
    name = info.name
    if info.status != "open":
        raise PolicyRefused(f"campaign {name} is {info.status}", object_id=name)
    deadline = info.config.deadline
    if deadline is not None and aware(deadline) < now:
        raise PolicyRefused(
            f"campaign {name} closed at its deadline {deadline:%Y-%m-%d %H:%M}", object_id=name
        )
    return info


_LEASE_COLUMNS = (
    "id",
    "campaign_id",
    "item_id",
    "annotator_id",
    "state",
    "gold",
    "expires_at",
    "created_at",
)
_NEW_LEASE = Prepared(insert(ASSIGNMENTS).values({c: arg(c) for c in _LEASE_COLUMNS}))


def claim_in(
    db: Database,
    conn: Connection,
    name: str,
    user: str,
    now: datetime,
    *,
    info: CampaignInfo | None = None,
    known: WhoRows | None = None,
) -> Task | None:
    """Claim inside an open write transaction (`claim`, and a submit that asks for the next
    item); an IntegrityError means a lost race and the transaction must be retried. `info` is
    the campaign and `known` who is asking (WHO's rows) as this transaction already read them
    (a submit did), each saving a round trip."""
    info = _open_campaign(db, conn, name, now) if info is None else _check_open(info, now)
    uid, viewer, standing, leases = who(conn, info, user, LABEL_ROLES, known)
    if standing is None:
        standing = _new_standing(conn, info, uid)
    if standing.status in ("paused", "failed"):
        why = (
            "gold accuracy below the threshold"
            if standing.status == "paused"
            else "did not pass the qualification set"
        )
        raise PolicyRefused(f"{user} is paused in {name}: {why}", object_id=name)
    live = _current_lease(conn, info, uid, now) if leases else None
    if live is not None:
        return live
    expires = now + timedelta(seconds=info.config.lease_seconds)
    gold_id = None
    if standing.status == "qualifying":
        gold_id = _gold_item(conn, info, uid, viewer, qualification=True)
        if gold_id is None:
            return None
    elif _gold_due(standing, info.config.gold_rate):
        gold_id = _gold_item(conn, info, uid, viewer, qualification=False)
    aid = new_id()
    data = None
    if gold_id is not None:
        item_id, questions = gold_id, [q for _, q in info.questions]
    else:
        params = {
            "uid": uid,
            "aid": aid,
            "expires": expires,
            "now": now,
            "qids": info.question_ids,
            **access_params(viewer, arrays=_orgs_as_arrays(db.dialect)),
        }
        picked = _lease_slots(conn, info, viewer, db.dialect, params)
        if picked is None:
            return None
        item_id, held, data = picked
        questions = [q for qid, q in info.questions if qid in held]
    if data is None:  # SQLite, or a gold item: write the lease and read the record here
        _NEW_LEASE.run(
            conn,
            {
                "id": aid,
                "campaign_id": info.id,
                "item_id": item_id,
                "annotator_id": uid,
                "state": "leased",
                "gold": gold_id is not None,
                "expires_at": expires,
                "created_at": now,
            },
        )
        return _task(conn, info, aid, item_id, questions, expires)
    return Task(aid, info.name, item_id, data, questions, expires)


def _claim_once(db: Database, name: str, user: str, now: datetime) -> Task | None:
    with db.write() as s:
        return claim_in(db, s.connection(), name, user, now)


def retry_lost_races(attempt: Callable[[], T], what: str, object_id: str) -> T:
    """`attempt` (one write transaction holding a claim) until it does not lose a race.

    An IntegrityError is a race the constraints caught: the transaction rolled back as a
    whole, so trying it again in a fresh one takes another slot.
    """
    for _ in range(CLAIM_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            continue
    raise QianmoError(f"could not {what} (too much contention); try again", object_id=object_id)


def claim(db: Database, campaign: str, user: str, *, now: datetime | None = None) -> Task | None:
    """The annotator's next item under a lease, or None when nothing is left for them."""
    return retry_lost_races(
        lambda: _claim_once(db, campaign, user, now or utcnow()), "claim an item", campaign
    )


# A lease, whose it is (who asks: USERS is joined by the name given) and its campaign's row.
_LEASE_ROW = (
    ASSIGNMENTS.c.campaign_id,
    ASSIGNMENTS.c.item_id,
    ASSIGNMENTS.c.gold,
    ASSIGNMENTS.c.state,
    ASSIGNMENTS.c.annotator_id,
    USERS.c.id,
    *CAMPAIGN_ROW,
)
_LEASE_FROM = ASSIGNMENTS.outerjoin(USERS, USERS.c.name == arg("user")).outerjoin(
    CAMPAIGNS,
    and_(CAMPAIGNS.c.id == ASSIGNMENTS.c.campaign_id, CAMPAIGNS.c.type == CAMPAIGN_TYPE),
)
LEASE_OF = Prepared(
    select(*_LEASE_ROW).select_from(_LEASE_FROM).where(ASSIGNMENTS.c.id == arg("aid"))
)


@dataclass(frozen=True)
class Lease:
    id: str
    campaign_id: str
    item_id: str
    gold: bool
    annotator_id: str


def own_lease(conn: Connection, assignment_id: str, user: str) -> tuple[Lease, tuple[Any, ...]]:
    """The user's lease `assignment_id`, if it is still leased, and its campaign's row (as
    `BY_ID` reads it, for `campaign_info`): one round trip."""
    return _leased(LEASE_OF.run(conn, {"aid": assignment_id, "user": user}).first(), assignment_id)


def _leased(row: tuple[Any, ...] | None, assignment_id: str) -> tuple[Lease, tuple[Any, ...]]:
    if row is None or row[4] != row[5]:
        raise QianmoError("no such assignment of yours", object_id=assignment_id)
    if row[3] != "leased":
        raise QianmoError(f"this assignment is already {row[3]}", object_id=assignment_id)
    lease = Lease(assignment_id, row[0], row[1], bool(row[2]), row[4])
    return lease, tuple(row[6 : len(_LEASE_ROW)])


# LEASE_OF's columns, then WHO's for the lease's campaign: a submit that claims the next item
# in the same transaction needs both (one round trip instead of two).
_held = ASSIGNMENTS.alias("held")
LEASE_AND_WHO = Prepared(
    select(
        *_LEASE_ROW,
        *_who_columns(_leases_held(_held, ASSIGNMENTS.c.campaign_id, USERS, ASSIGNMENTS)),
    )
    .select_from(_who_joins(_LEASE_FROM, ASSIGNMENTS.c.campaign_id))
    .where(ASSIGNMENTS.c.id == arg("aid"))
)


def own_lease_and_who(
    conn: Connection, assignment_id: str, user: str
) -> tuple[Lease, tuple[Any, ...], WhoRows]:
    """`own_lease`, and who is asking in the lease's campaign as WHO reads them (their rows
    as they stand before this submit)."""
    rows = LEASE_AND_WHO.run(conn, {"aid": assignment_id, "user": user}).rows
    lease, campaign_row = _leased(rows[0] if rows else None, assignment_id)
    return lease, campaign_row, [tuple(r[len(_LEASE_ROW) :]) for r in rows]


def let_go(db: Database, assignment_id: str, user: str, *, discard: bool) -> None:
    """Skip (the item may come back to you after the others) or discard (never again for you).

    Either way the lease ends, its slots are free for others, and nothing counts towards k.
    """
    with db.write() as s:
        conn = s.connection()
        own_lease(conn, assignment_id, user)
        if not end_lease(conn, assignment_id, "discarded" if discard else "skipped"):
            raise QianmoError("this assignment has just ended", object_id=assignment_id)
