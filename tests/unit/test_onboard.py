"""``opsnb map``: which export is which contract table and which header which column, on fixture exports
(tests/onboard_exports.py: Chinese headers, GBK/GB18030, a BOM, a TSV, Excel date-time cells, Excel day numbers,
a second sheet, a file that is no table), and the hard cases written by hand (two headers for one column)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from opsnb.onboard import map_exports, propose
from opsnb.onboard.synonyms import column_match, norm, table_match
from opsnb.pack import open_pack
from opsnb.pack.schemas import SCHEMAS
from opsnb.sample import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from onboard_exports import EXPECTED, read_pack_frames, write_exports  # noqa: E402

TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("onboard")
    generate(root / "pack", scale=0.02)
    return write_exports(root / "exports", read_pack_frames(root / "pack"))


@pytest.fixture(scope="module")
def proposal(exports: Path):
    return propose(exports, tz=TZ)


def test_the_fixtures_cover_every_contract_table():
    assert set(EXPECTED) == set(SCHEMAS)


@pytest.mark.parametrize("table", list(EXPECTED))
def test_each_table_is_found_in_its_export_with_every_column_mapped_right(proposal, table):
    file, sheet, columns = EXPECTED[table]
    tp = proposal.tables[table]
    assert (tp.source.file, tp.source.sheet) == (file, sheet)
    mapped = {c.column: c.chosen.header for c in tp.columns if c.written and c.chosen is not None}
    assert mapped == columns
    assert [c.column for c in tp.columns if c.state in ("ambiguous", "weak", "left_out")] == []


def test_mapping_accuracy_on_the_fixtures_is_every_column(proposal):
    expected = sum(len(cols) for _, _, cols in EXPECTED.values())
    right = sum(1 for table, (_, _, cols) in EXPECTED.items() for col, header in cols.items()
                if (cp := proposal.tables[table].column(col)).written and cp.chosen.header == header)
    assert (right, expected) == (83, 83)
    assert proposal.ambiguous == {} and proposal.missing == [] and proposal.extra_sheets == []


def test_what_is_no_table_is_named_and_left_out(proposal):
    assert sorted(s.label for s, _ in proposal.others) == ["商品表.csv", "订单导出.xlsx › 汇总"]
    assert [(k.file, k.code) for k in proposal.skipped] == [("说明.txt", "unsupported")]


def test_encodings_and_excel_dates_are_read_as_ingest_reads_them(proposal):
    enc = {s.file: s.encoding for s in proposal.sources if s.sheet is None}
    assert enc["会员列表.csv"] == "gb18030" and enc["客服工单.csv"] == "gb18030"  # GBK is read as its superset
    assert enc["广告触达.csv"] == "utf-8-sig" and enc["月度目标.csv"] == "utf-8"
    start = proposal.tables["campaigns"].column("start").chosen
    assert [e.code for e in start.evidence] == ["name.strong", "val.serial"]  # Excel day numbers, said so
    assert proposal.tables["orders"].column("ts").chosen.evidence[1].code == "val.datetime"  # real date-time cells
    spend = proposal.tables["channel_spend"].column("date").chosen
    assert spend.evidence[1].code == "val.date" and spend.evidence[1].kw["examples"].startswith("2025/01/01")


def test_each_proposal_carries_its_evidence_and_confidence(proposal):
    users = proposal.tables["users"]
    assert users.score == 0.92 and [e.code for e in users.evidence] == ["table.name", "table.required",
                                                                          "table.explained"]
    uid = users.column("user_id").chosen
    assert (uid.header, uid.score, uid.how) == ("会员ID", 0.95, "strong")
    assert proposal.tables["experiments"].column("variant").chosen.how == "contract_like"  # "Variant"
    assert users.unused == ["手机号"] and proposal.tables["orders"].unused == ["商品名称"]


def test_map_writes_a_pack_yaml_that_validates_and_opens(exports, tmp_path):
    out = tmp_path / "pack.yaml"
    res = map_exports(exports, tz=TZ, lang="zh", out=out)
    assert res.errors == 0
    assert [getattr(p, "code", "") for p in res.problems if getattr(p, "severity", "") == "error"] == []
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert spec["tables"]["orders"] == {"file": "订单导出.xlsx", "sheet": "订单明细", "columns": {
        "订单编号": "order_id", "买家ID": "user_id", "下单时间": "ts", "实付金额": "amount", "订单状态": "status",
        "下单渠道": "channel", "活动ID": "campaign_id"}}
    (exports / "pack.yaml").write_bytes(out.read_bytes())
    try:
        orders = open_pack(exports, tz=TZ).table("orders").execute()
        assert list(orders.columns[:6]) == ["order_id", "user_id", "ts", "amount", "status", "channel"]
        assert orders["amount"].dtype.kind == "f" and len(orders) > 0
    finally:
        (exports / "pack.yaml").unlink()
    with pytest.raises(FileExistsError):
        map_exports(exports, tz=TZ, out=out)  # never over a file


def _csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def test_two_headers_for_one_column_are_left_for_the_user_with_both_named(tmp_path):
    _csv(tmp_path, "订单.csv", "订单号,用户ID,下单时间,实付金额,支付金额\n"
                              "A1,U1,2026-10-01 10:00,12.50,12.50\nA2,U2,2026-10-02 11:00,30.00,28.00\n")
    p = propose(tmp_path, tz=TZ)
    amount = p.tables["orders"].column("amount")
    assert amount.state == "ambiguous" and not amount.written
    assert sorted(c.header for c in [amount.chosen, *amount.others]) == ["实付金额", "支付金额"]
    res = map_exports(tmp_path, tz=TZ, lang="en")
    lines = [line.strip() for line in res.yaml.splitlines()]
    assert not [x for x in lines if x.startswith(("实付金额:", "支付金额:"))]  # neither is written …
    assert [x.split("  #")[0] for x in lines if x.startswith(("# 实付金额:", "# 支付金额:"))] == [
        "# 实付金额: amount", "# 支付金额: amount"]  # … both are there, commented out, to uncomment one
    text = res.text("en")
    assert "amount" in text and "实付金额 (0.95)" in text and "支付金额 (0.95)" in text


def test_a_date_column_no_header_names_is_found_by_its_values(tmp_path):
    _csv(tmp_path, "orders.csv", "订单号,用户ID,日子,实付金额\nA1,U1,2026/10/01 10:00,12.50\nA2,U2,2026/10/02 11:00,30.00\n",
         "gbk")
    ts = propose(tmp_path, tz=TZ).tables["orders"].column("ts")
    assert (ts.state, ts.chosen.header, ts.chosen.score, ts.chosen.how) == ("mapped", "日子", 0.6, "values")


def test_order_statuses_outside_the_contract_are_left_out_saying_why(tmp_path):
    _csv(tmp_path, "订单.csv", "订单号,用户ID,下单时间,实付金额,订单状态\n"
                              "A1,U1,2026-10-01 10:00,12.50,已付款\nA2,U2,2026-10-02 11:00,30.00,已退款\n")
    status = propose(tmp_path, tz=TZ).tables["orders"].column("status")
    assert status.state == "left_out" and status.why is not None and status.why.code == "vocab.order_status"


def test_synonyms_compare_names_without_case_width_brackets_or_separators():
    assert norm("实付金额（元）") == "实付金额" and norm("Order_ID") == norm(" order id ") == "orderid"
    assert column_match("order_id", "orders", "order_id").how == "contract"
    assert column_match("Order ID", "orders", "order_id").how == "contract_like"
    assert column_match("订单金额", "orders", "amount").score == 0.7  # weak: loses to 实付金额
    assert column_match("买家实付金额", "orders", "amount").how == "partial"
    assert table_match("订单导出_2026-10", "orders").synonym == "订单"
    assert table_match("catalog", "events") is None  # 'log' only at the start of a word
