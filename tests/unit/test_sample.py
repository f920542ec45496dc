"""The sample pack generator: determinism, the pack contract, realism and every planted fact.

Planted facts are re-computed here independently with DuckDB SQL on the written files.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsnb.pack import SCHEMAS, open_pack
from opsnb.sample import BIG_TABLES, SMALL_TABLES, generate

SCALE = 0.1
REVIEW = ("2026-10-01", "2026-11-01")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, seed=7, scale=SCALE)


@pytest.fixture(scope="module")
def db(pack: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    folder, _ = pack
    con = duckdb.connect()
    for name in BIG_TABLES:
        con.execute(f"create view {name} as select * from read_parquet('{folder / name}.parquet')")
    for name in SMALL_TABLES:
        df = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: F841 (used by DuckDB)
        con.execute(f"create table {name} as select * from df")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchone()[0]


def test_same_seed_and_scale_give_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=3, scale=0.05)
    generate(b, seed=3, scale=0.05)
    generate(c, seed=4, scale=0.05)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) == len(BIG_TABLES) + len(SMALL_TABLES) + 3  # README.md, scenario.json, pack.yaml
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "events.parquet").read_bytes() != (c / "events.parquet").read_bytes()


def test_scale_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale must be > 0"):
        generate(tmp_path, scale=0)


def test_pack_opens_without_problems_and_has_every_contract_column(pack: tuple[Path, dict]) -> None:
    folder, _ = pack
    p = open_pack(folder, use_cache=False)
    assert p.names == sorted(SCHEMAS)
    for name in BIG_TABLES:
        schema = pq.read_schema(folder / f"{name}.parquet")
        assert schema.names == SCHEMAS[name].names, name
        for col in SCHEMAS[name].columns:
            typ = schema.field(col.name).type
            if col.type == "ts":
                assert typ == pa.timestamp("us"), (name, col.name, typ)
            elif col.type in ("id", "str"):
                assert typ == pa.string(), (name, col.name, typ)
    for name in SMALL_TABLES:
        header = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == SCHEMAS[name].names, name
    assert p.day_range() == (pd.Timestamp("2025-01-01").date(), pd.Timestamp("2026-10-31").date())


def test_row_counts_fit_the_scale_and_match_the_scenario(pack: tuple[Path, dict], db: duckdb.DuckDBPyConnection) -> None:
    _, scenario = pack
    counts = {name: one(db, f"select count(*) from {name}") for name in BIG_TABLES + SMALL_TABLES}
    assert counts == scenario["row_counts"]
    assert counts["users"] == 5_000
    assert 170_000 <= counts["events"] <= 250_000
    assert 3_000 <= counts["orders"] <= 7_000
    assert 600 <= counts["experiments"] <= 1_000
    assert counts["campaigns"] == 15
    assert counts["content"] == 300
    assert counts["channel_spend"] == 669 * 8
    assert counts["kpis"] == 5 * 24 + 2
    assert 10 <= counts["actions"] <= 20
    assert counts["risks"] == 6
    assert scenario["review_period"] == "2026-10"
    assert (scenario["seed"], scenario["scale"]) == (7, SCALE)


def test_every_timestamp_is_inside_the_data_range(db: duckdb.DuckDBPyConnection) -> None:
    for table, col in [("users", "signup_at"), ("events", "ts"), ("orders", "ts"), ("touchpoints", "ts"),
                       ("experiments", "ts")]:
        lo, hi = db.execute(f"select min({col}), max({col}) from {table}").fetchone()
        assert lo >= pd.Timestamp("2025-01-01") and hi < pd.Timestamp("2026-11-01"), table
    for table, col in [("feedback", "created_at"), ("feedback", "resolved_at"), ("content", "published_at"),
                       ("channel_spend", "date")]:
        lo, hi = db.execute(f"select min({col}), max({col}) from {table} where {col} <> ''").fetchone()
        assert "2025-01-01" <= lo and hi < "2026-11-01", (table, col)
    # no event before its user's sign-up
    assert one(db, "select count(*) from events e join users u using (user_id) where e.ts < u.signup_at") == 0


def test_funnel_shrinks_and_orders_tie_to_purchases(db: duckdb.DuckDBPyConnection) -> None:
    users = db.execute("select event, count(distinct user_id) from events group by 1").fetchall()
    u = dict(users)
    assert u["visit"] > u["view_item"] > u["add_to_cart"] > u["purchase"] > 0
    assert u["register"] >= 0.99 * one(db, "select count(*) from users")
    # every paid/cancelled order except the Web ones lost on the tracking-break day has its purchase event
    missing = one(db, """select count(*) from orders o where status <> 'refunded' and not exists
                         (select 1 from events e where e.user_id = o.user_id and e.ts = o.ts and e.event = 'purchase')""")
    lost_day = one(db, """select count(*) from orders o join users u using (user_id) where status <> 'refunded'
                          and u.platform = 'Web' and o.ts::date = date '2026-10-20'""")
    assert missing == lost_day
    aov = one(db, "select avg(amount) from orders where status = 'paid'")
    assert 200 <= aov <= 400
    refunded = one(db, "select count(*) from orders where status = 'refunded'") / one(
        db, "select count(*) from orders where status = 'paid'")
    assert 0.02 <= refunded <= 0.07
    assert one(db, "select max(amount) from orders where status = 'refunded'") < 0
    # refunds come after an order of the same user
    assert one(db, """select count(*) from orders r where status = 'refunded' and not exists
                      (select 1 from orders o where o.user_id = r.user_id and o.status = 'paid'
                       and o.amount = -r.amount and o.ts < r.ts)""") == 0
    # orders.channel is the user's channel
    assert one(db, "select count(*) from orders o join users u using (user_id) where o.channel <> u.channel") == 0


def test_seasonality_618_and_double_eleven_peaks_and_spring_festival_dip(db: duckdb.DuckDBPyConnection) -> None:
    gmv = dict(db.execute("""select strftime(ts, '%Y-%m'), sum(amount) from orders where status = 'paid'
                             group by 1""").fetchall())
    assert gmv["2025-06"] > 1.15 * max(gmv["2025-05"], gmv["2025-07"])
    assert gmv["2025-11"] > 1.15 * max(gmv["2025-10"], gmv["2025-12"])
    assert gmv["2026-02"] < 0.9 * min(gmv["2026-01"], gmv["2026-03"])
    assert gmv["2026-09"] > 1.15 * gmv["2025-09"]  # growth
    weekend = one(db, """select avg(n) filter (where dow in (0, 6)) / avg(n) filter (where dow between 1 and 5)
                         from (select ts::date d, dayofweek(ts::date) dow, count(*) n from events group by 1, 2)""")
    assert weekend > 1.05


def weekly_churn(db: duckdb.DuckDBPyConnection) -> pd.Series:
    df = db.execute("""
        with w as (select distinct user_id, date_trunc('week', ts)::date wk from events),
        a as (select wk, count(*) n from w group by 1),
        r as (select w1.wk, count(*) back from w w1 join w w2 on w1.user_id = w2.user_id and w2.wk = w1.wk + 7
              group by 1)
        select a.wk + 7 as week, 1 - coalesce(back, 0) / n as churn from a left join r using (wk)
        where a.wk + 7 <= date '2026-10-19' order by 1""").df()
    return pd.Series(df["churn"].to_numpy(), index=pd.to_datetime(df["week"]))


def test_planted_churn_spike_stands_out(pack: tuple[Path, dict], db: duckdb.DuckDBPyConnection) -> None:
    _, scenario = pack
    fact = next(p for p in scenario["planted"] if p["kind"] == "churn_spike")
    assert fact["week_start"] == "2026-10-12" and fact["metric"] == "weekly_churn"
    churn = weekly_churn(db)
    spike = churn[pd.Timestamp("2026-10-12")]
    history = churn[(churn.index >= pd.Timestamp("2026-04-13")) & (churn.index < pd.Timestamp("2026-10-12"))]
    usual = history.median()
    assert spike - usual >= 0.03
    mad = (history - usual).abs().median() * 1.4826
    assert (spike - usual) / mad > 5
    # robust STL fitted on the weeks before the spike; the spike is scored against its baseline
    # (trend + last cycle's seasonal). A fit that includes the spike as its second-to-last point
    # absorbs it into the seasonal term at the series end, so detectors must score new points this way.
    from statsmodels.tsa.seasonal import STL
    past = churn[(churn.index >= pd.Timestamp("2025-03-03")) & (churn.index < pd.Timestamp("2026-10-12"))]
    fit = STL(past.to_numpy(), period=13, robust=True).fit()
    resid = fit.resid
    scale = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    expected = fit.trend[-1] + fit.seasonal[-13]
    assert (spike - expected) / scale > 3.5
    assert np.abs((resid - np.median(resid)) / scale)[-26:].max() < (spike - expected) / scale
    assert abs(fact["churn"] - spike) < 1e-3


def test_planted_low_roi_campaign(pack: tuple[Path, dict], db: duckdb.DuckDBPyConnection) -> None:
    _, scenario = pack
    fact = next(p for p in scenario["planted"] if p["kind"] == "low_roi_campaign")
    roi = dict(db.execute("""
        select c.campaign_id, coalesce(sum(o.amount), 0) / c.cost::double
        from campaigns c left join orders o on o.campaign_id = c.campaign_id and o.status = 'paid'
        where c.start::date < date '2026-11-01' and c."end"::date >= date '2026-10-01'
        group by c.campaign_id, c.cost""").fetchall())
    assert set(roi) == {"CP2605", "CP2606", "CP2607"}
    assert roi[fact["campaign_id"]] < 1
    assert abs(roi[fact["campaign_id"]] - fact["roi"]) < 1e-3
    assert all(v > 2 for k, v in roi.items() if k != fact["campaign_id"])
    # campaign orders sit in the campaign window and their users were touched by it before
    assert one(db, """select count(*) from orders o join campaigns c using (campaign_id)
                      where o.status = 'paid' and (o.ts < c.start::timestamp
                      or o.ts >= c."end"::date + interval 1 day)""") == 0
    assert one(db, """select count(*) from orders o where o.status = 'paid' and o.campaign_id is not null
                      and not exists (select 1 from touchpoints t where t.user_id = o.user_id
                      and t.campaign_id = o.campaign_id and t.ts <= o.ts)""") == 0
    # the planned 双十一 2026 is in the calendar
    assert db.execute("select name, start from campaigns where start = '2026-11-01'").fetchall() == [("双十一", "2026-11-01")]


def test_planted_budget_imbalance(db: duckdb.DuckDBPyConnection) -> None:
    spend = one(db, """select sum(cost::double) filter (where channel = 'KOL') / sum(cost::double) from channel_spend
                       where date between '2026-10-01' and '2026-10-31'""")
    gmv = one(db, """select sum(amount) filter (where channel = 'KOL') / sum(amount) from orders
                     where status = 'paid' and ts >= '2026-10-01'""")
    assert spend - gmv >= 0.20
    # every other channel's spend share stays within 12 points of its GMV share
    gaps = db.execute("""
        with s as (select channel, sum(cost::double) / sum(sum(cost::double)) over () sh from channel_spend
                   where date between '2026-10-01' and '2026-10-31' group by 1),
             g as (select channel, sum(amount) / sum(sum(amount)) over () sh from orders
                   where status = 'paid' and ts >= '2026-10-01' group by 1)
        select channel, s.sh - g.sh from s join g using (channel) where channel <> 'KOL'""").fetchall()
    assert all(gap < 0.12 for _, gap in gaps)
    ctr = db.execute("select min(clicks::double / impressions::double), max(clicks::double / impressions::double) "
                     "from channel_spend where impressions::int > 1000").fetchone()
    assert 0.004 <= ctr[0] and ctr[1] <= 0.031


def test_planted_overdue_action(pack: tuple[Path, dict], db: duckdb.DuckDBPyConnection) -> None:
    _, scenario = pack
    fact = next(p for p in scenario["planted"] if p["kind"] == "overdue_action")
    overdue = db.execute("""select action_id from actions where due < '2026-10-31' and status <> 'done'
                            and done_at = ''""").fetchall()
    assert overdue == [(fact["action_id"],)]
    assert one(db, "select count(*) from actions where status = 'done' and (done_at = '' or done_at > due)") == 0
    assert set(dict(db.execute("select status, 1 from actions").fetchall())) == {"planned", "in_progress", "done",
                                                                                 "delayed"}


def test_planted_kpi_attainments_and_other_targets_close_to_actual(db: duckdb.DuckDBPyConnection) -> None:
    actual = {
        "gmv": dict(db.execute("select strftime(ts, '%Y-%m'), sum(amount) from orders where status = 'paid' "
                               "group by 1").fetchall()),
        "orders": dict(db.execute("select strftime(ts, '%Y-%m'), count(*) from orders where status = 'paid' "
                                  "group by 1").fetchall()),
        "new_users": dict(db.execute("select strftime(signup_at, '%Y-%m'), count(*) from users group by 1").fetchall()),
        "active_users": dict(db.execute("""select strftime(d, '%Y-%m'), sum(n) / max(dayofmonth(last_day(d)))
                                           from (select ts::date d, count(distinct user_id) n from events group by 1)
                                           group by 1""").fetchall()),
    }
    kpis = db.execute("select metric, period, target::double, nullif(actual, '')::double from kpis").fetchall()
    seen = set()
    for metric, period, target, act in kpis:
        if period > "2026-10" or len(period) == 4:
            assert act is None
            continue
        value = act if metric == "nps" else actual[metric][period]
        att = value / target
        seen.add((metric, period))
        if (metric, period) == ("new_users", "2026-10"):
            assert att == pytest.approx(0.85, abs=0.005)
        elif (metric, period) == ("gmv", "2026-10"):
            assert att == pytest.approx(1.08, abs=0.005)
        elif period == "2026-10":
            assert 1.0 <= att <= 1.03, (metric, period, att)
        else:
            assert 0.97 <= att <= 1.031, (metric, period, att)
    assert len(seen) == 5 * 22
    yearly = dict(db.execute("select metric, target::double from kpis where period = '2026'").fetchall())
    assert set(yearly) == {"gmv", "new_users"}
    assert yearly["gmv"] > sum(v for k, v in actual["gmv"].items() if k.startswith("2026"))


def test_planted_attribution_gap(db: duckdb.DuckDBPyConnection) -> None:
    share = dict(db.execute("""
        select o.channel, avg(case when exists (select 1 from touchpoints t where t.user_id = o.user_id
                                                and t.ts <= o.ts) then 0 else 1 end)
        from orders o where o.status = 'paid' and o.ts >= '2026-10-01' group by 1""").fetchall())
    assert share["抖音"] >= 0.40
    assert all(v < 0.10 for k, v in share.items() if k != "抖音")
    per_order = one(db, "select count(*) from touchpoints") / one(db, "select count(*) from orders where status <> 'refunded'")
    assert 1 <= per_order <= 5


def test_planted_tracking_break_only_on_its_day(db: duckdb.DuckDBPyConnection) -> None:
    daily = db.execute("""select d.d, coalesce(n, 0) n from
        (select unnest(generate_series(date '2025-01-01', date '2026-10-31', interval 1 day))::date d) d
        left join (select ts::date d, count(*) n from events where platform = 'Web' group by 1) e using (d)""").df()
    zero = daily[daily["n"] == 0]["d"].astype(str).tolist()
    assert zero == ["2026-10-20"]
    assert one(db, "select count(*) from events where ts::date = date '2026-10-20' and platform <> 'Web'") > 0


def test_experiment_b_converts_better(db: duckdb.DuckDBPyConnection) -> None:
    rows = dict(db.execute("""
        select x.variant, avg(case when exists (select 1 from orders o where o.user_id = x.user_id
                                  and o.status = 'paid' and o.ts >= x.ts and o.ts < date '2026-10-29') then 1 else 0 end)
        from experiments x where experiment = '结算按钮改版' group by 1""").fetchall())
    assert set(rows) == {"A", "B"}
    assert rows["B"] > rows["A"] + 0.04
    assert one(db, "select min(ts) from experiments") >= pd.Timestamp("2026-10-08")


def test_scenario_lists_every_planted_kind_and_the_readme(pack: tuple[Path, dict]) -> None:
    folder, scenario = pack
    kinds = [p["kind"] for p in scenario["planted"]]
    assert kinds == ["churn_spike", "low_roi_campaign", "budget_imbalance", "overdue_action", "missed_kpi",
                     "exceeded_kpi", "attribution_gap", "tracking_break"]
    assert json.loads((folder / "scenario.json").read_text(encoding="utf-8")) == scenario
    assert {"kind": "tracking_break", "platform": "Web", "date": "2026-10-20"} in scenario["planted"]
    assert "栖木家居" in (folder / "README.md").read_text(encoding="utf-8")


def test_pack_yaml_names_every_category_value_in_english(tmp_path: Path) -> None:
    """Issue 32: en pages showed 小程序, 华东, 质量 …: the sample's pack.yaml names each value it uses."""
    import pandas as pd

    from opsnb.pack.config import load_labels
    from opsnb.render import i18n

    generate(tmp_path, seed=3, scale=0.05)
    labels, problems = load_labels(tmp_path)
    assert problems == []
    columns = {"users": ("channel", "region", "platform"), "events": ("platform", "channel"),
               "campaigns": ("name", "type", "channel"), "content": ("type", "channel"),
               "feedback": ("category", "priority"), "channel_spend": ("channel",), "experiments": ("experiment",),
               "actions": ("title", "metric", "problem"), "risks": ("risk", "mitigation")}
    used: set[str] = set()
    for table, cols in columns.items():
        path = tmp_path / f"{table}.parquet"
        df = pd.read_parquet(path) if path.is_file() else pd.read_csv(tmp_path / f"{table}.csv")
        for col in cols:
            used |= {str(v) for v in df[col].dropna().unique()}
    i18n.use_labels(labels, "en")
    try:
        unnamed = sorted(v for v in used if i18n.display_name(v) == v and any("\u4e00" <= ch <= "\u9fff" for ch in v))
    finally:
        i18n.use_labels({}, "zh")
    assert unnamed == []  # every Chinese value has an English name (joined ones, 微信私域+老带新, part by part)
    assert labels["小程序"] == {"en": "Mini program"} and labels["华东"] == {"en": "East China"}
    assert labels["质量"] == {"en": "Quality"}
