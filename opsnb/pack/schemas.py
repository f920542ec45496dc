"""The data pack contract: one declared schema per table (DESIGN.md, "The data pack").

Types after ingest:

* ``id``/``str``: text (ids keep leading zeros);
* ``ts``: naive timestamp in **local business time** of the configured timezone (aware inputs
  are converted, naive inputs are taken as already local), so ``ts.date()`` is the local day;
* ``date``: calendar date; ``float``/``int``: numbers; ``bool``: booleans;
* ``ratio``: a number that may be written as a percent string. ``"15%"`` is 0.15; a plain number is
  taken as written (``0.15``, or ``3.2`` for an ROI). Within one group (``ratio@metric``: the rows of
  one metric; without ``@``: the whole column) that has any ``%`` value, a plain number above 1 in
  absolute value (``"15"`` next to ``"15%"``) is ambiguous and an error listing the rows: write
  ``15%`` or ``0.15``. Outside ``ratio`` columns a ``%`` value is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColType = Literal["id", "str", "ts", "date", "float", "int", "bool", "ratio"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType
    required: bool = True
    nonnegative: bool = False
    #: For ``ratio`` columns: the column whose value groups rows for the mixed-percent rule.
    group: str = ""


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    feeds: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        """Names of every declared column, in contract order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The declared column ``name`` (``StopIteration`` when unknown)."""
        return next(c for c in self.columns if c.name == name)


def _t(name: str, cols: str, key: tuple[str, ...] = (), feeds: str = "") -> TableSchema:
    """Declare a table from ``"name:type, [optional:type]!"`` (``!`` = must not be negative)."""
    out = []
    for raw in cols.split(","):
        raw = raw.strip()
        optional = raw.startswith("[")
        raw = raw.strip("[]")
        nonneg = raw.endswith("!")
        n, t = raw.rstrip("!").split(":")
        t, _, group = t.partition("@")
        out.append(Column(n, t, not optional, nonneg, group))  # type: ignore[arg-type]
    return TableSchema(name, tuple(out), key, feeds)


SCHEMAS: dict[str, TableSchema] = {s.name: s for s in [
    _t("users", "user_id:id, signup_at:ts, [channel:str], [region:str], [platform:str], [is_member:bool]",
       ("user_id",), "new users, cohorts, regions"),
    _t("events", "user_id:id, ts:ts, event:str, [platform:str], [channel:str], [session_id:id]",
       (), "DAU/MAU, retention, funnels, lifecycle, programmes"),
    _t("orders", "order_id:id, user_id:id, ts:ts, amount:float, [status:str], [channel:str], [campaign_id:id]",
       ("order_id",), "GMV, AOV, conversion, repurchase, RFM"),
    _t("touchpoints", "user_id:id, ts:ts, channel:str, [campaign_id:id]", (), "attribution, campaign reach"),
    _t("campaigns", "campaign_id:id, name:str, type:str, start:date, end:date, cost:float!, [channel:str], "
       "[reach:int!], [target_new_users:int!], [target_gmv:float!], [owner:str]",
       ("campaign_id",), "campaign review, ROI, budget (cost: the campaign's own cost over its window — prizes, "
                         "coupons, events — outside channel_spend unless campaigns.cost_in_channel_spend)"),
    _t("experiments", "experiment:str, variant:str, user_id:id, ts:ts", ("experiment", "user_id"), "A/B tests"),
    _t("channel_spend", "date:date, channel:str, cost:float!, [impressions:int!], [clicks:int!]",
       ("date", "channel"), "CTR, CPC, CAC, channel ROI (cost: paid media spend per channel and day)"),
    _t("content", "content_id:id, published_at:ts, channel:str, type:str, [title:str], [views:int!], [likes:int!], "
       "[comments:int!], [shares:int!], [followers_gained:int], [leads:int!], [conversions:int!], [cost:float!]",
       ("content_id",), "content review"),
    _t("feedback", "ticket_id:id, created_at:ts, category:str, [resolved_at:ts], [priority:str], [satisfaction:float!]",
       ("ticket_id",), "service quality, problems"),
    _t("kpis", "metric:str, period:str, target:ratio@metric, [actual:ratio@metric]", ("metric", "period"), "goals"),
    _t("actions", "action_id:id, title:str, owner:str, start:date, due:date, [status:str], [done_at:date], "
       "[horizon:str], [metric:str], [target:ratio@metric], [budget:float!], [problem:str]",
       ("action_id",), "plan, overdue problems"),
    _t("risks", "risk:str, [likelihood:int!], [impact:int!], [mitigation:str], [owner:str]", ("risk",), "plan"),
]}

#: Event names the built-in analyses understand (the ``event`` column may hold others).
EVENT_NAMES = ("visit", "register", "view_item", "add_to_cart", "purchase", "share",
               "points_earn", "points_redeem", "member_join", "member_renew")
#: Order statuses: ``paid`` counts as revenue; ``refunded``/``cancelled`` carry negative or void amounts.
ORDER_STATUSES = ("paid", "refunded", "cancelled")
