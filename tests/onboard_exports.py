"""Write a team's exports from contract tables, as a Chinese operations team's systems would write them.

Every contract table, each in another form: Chinese headers (one table in English ones), GBK and GB18030
CSV, UTF-8 with and without BOM, a TSV, an Excel workbook whose orders sheet has a summary sheet beside it
(real date-time cells), an Excel sheet whose dates are Excel day numbers, ``2026/10/01`` dates, ``是/否``
flags, columns the contract does not know, a table the contract does not know and a file that is no data.
:data:`EXPECTED` is the mapping a correct proposal makes (``tests/unit/test_onboard.py``,
``tests/e2e/test_newcomer.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: table → (file, sheet, {contract column: export header}) a correct proposal finds.
EXPECTED: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "users": ("会员列表.csv", None, {"user_id": "会员ID", "signup_at": "注册时间", "channel": "注册渠道",
                                   "region": "所在地区", "platform": "平台", "is_member": "是否会员"}),
    "events": ("行为日志.tsv", None, {"user_id": "用户ID", "ts": "行为时间", "event": "行为类型", "platform": "平台",
                                    "channel": "渠道", "session_id": "会话ID"}),
    "orders": ("订单导出.xlsx", "订单明细", {"order_id": "订单编号", "user_id": "买家ID", "ts": "下单时间",
                                         "amount": "实付金额", "status": "订单状态", "channel": "下单渠道",
                                         "campaign_id": "活动ID"}),
    "touchpoints": ("广告触达.csv", None, {"user_id": "用户ID", "ts": "触达时间", "channel": "触达渠道",
                                       "campaign_id": "活动ID"}),
    "campaigns": ("营销活动.xlsx", "活动", {"campaign_id": "活动ID", "name": "活动名称", "type": "活动类型",
                                       "start": "开始日期", "end": "结束日期", "cost": "活动成本", "channel": "渠道",
                                       "reach": "触达人数", "target_new_users": "目标新客", "target_gmv": "目标GMV",
                                       "owner": "负责人"}),
    "experiments": ("ab_test.csv", None, {"experiment": "Experiment name", "variant": "Variant",
                                          "user_id": "User ID", "ts": "Assigned at"}),
    "channel_spend": ("渠道投放日报.csv", None, {"date": "日期", "channel": "渠道", "cost": "花费", "impressions": "曝光",
                                           "clicks": "点击"}),
    "content": ("内容数据.csv", None, {"content_id": "内容ID", "published_at": "发布时间", "channel": "发布平台",
                                   "type": "内容类型", "title": "标题", "views": "阅读量", "likes": "点赞",
                                   "comments": "评论", "shares": "分享", "followers_gained": "涨粉", "leads": "线索",
                                   "conversions": "转化", "cost": "成本"}),
    "feedback": ("客服工单.csv", None, {"ticket_id": "工单号", "created_at": "创建时间", "category": "问题分类",
                                    "resolved_at": "解决时间", "priority": "优先级", "satisfaction": "满意度"}),
    "kpis": ("月度目标.csv", None, {"metric": "指标", "period": "周期", "target": "目标值", "actual": "实际值"}),
    "actions": ("行动计划.csv", None, {"action_id": "编号", "title": "事项", "owner": "负责人", "start": "开始日期",
                                   "due": "截止日期", "status": "状态", "done_at": "完成日期", "horizon": "周期",
                                   "metric": "指标", "target": "目标", "budget": "预算", "problem": "对应问题"}),
    "risks": ("风险登记.csv", None, {"risk": "风险", "likelihood": "可能性", "impact": "影响", "mitigation": "应对措施",
                                 "owner": "负责人"}),
}
#: Columns of the exports the contract does not know: table → {header: value for every row}.
EXTRA = {"users": {"手机号": "138****0000"}, "orders": {"商品名称": "原木餐桌"}}
#: Files that are no contract table.
NOT_TABLES = ("商品表.csv", "订单导出.xlsx › 汇总")
#: Encodings of the CSV/TSV files (default UTF-8 without BOM).
ENCODINGS = {"会员列表.csv": "gbk", "渠道投放日报.csv": "gbk", "客服工单.csv": "gb18030", "广告触达.csv": "utf-8-sig"}


def _text(s: pd.Series) -> pd.Series:
    """Cells as an export writes them: dates ``2026-10-01 08:30:00``, whole floats without ``.0``, empty for none."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "是", False: "否"}).fillna("")
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(float(v))))
    return s.astype("string").fillna("")


def _renamed(table: str, df: pd.DataFrame) -> pd.DataFrame:
    names = EXPECTED[table][2]
    out = df[[c for c in names if c in df.columns]].rename(columns=names)
    for header, value in EXTRA.get(table, {}).items():
        out[header] = value
    return out


def write_exports(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    """Write ``frames`` (contract tables) into ``folder`` as a team's exports; returns ``folder``."""
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    for table, df in frames.items():
        file, sheet, _ = EXPECTED[table]
        out = _renamed(table, df)
        if table == "orders":  # real Excel date-time cells, numbers as numbers, a summary sheet first
            wb = openpyxl.Workbook()
            summary = wb.active
            summary.title = "汇总"
            summary.append(["统计项", "数值"])
            summary.append(["订单数", len(df)])
            summary.append(["导出时间", "2026-11-01 09:00"])
            ws = wb.create_sheet(sheet)
            ws.append(list(out.columns))
            for row in out.itertuples(index=False):
                ws.append([None if pd.isna(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
                           for v in row])
            wb.save(folder / file)
        elif table == "campaigns":  # dates as Excel day numbers in plain number cells
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "活动"
            ws.append(list(out.columns))
            epoch = pd.Timestamp("1899-12-30")
            for row in out.to_dict("records"):
                for col in ("开始日期", "结束日期"):
                    row[col] = (pd.Timestamp(row[col]) - epoch).days
                ws.append([None if (not isinstance(v, str) and pd.isna(v)) else v for v in row.values()])
            wb.save(folder / file)
        else:
            text = out.apply(_text)
            if table == "channel_spend":
                text["日期"] = text["日期"].str.replace("-", "/", regex=False).str.slice(0, 10)
            sep = "\t" if file.endswith(".tsv") else ","
            body = text.to_csv(index=False, sep=sep, lineterminator="\n")
            (folder / file).write_bytes(body.encode(ENCODINGS.get(file, "utf-8")))
    (folder / "商品表.csv").write_text("商品ID,商品名称,类目,价格\nP001,原木餐桌,餐厅,1299\nP002,布艺沙发,客厅,2599\n",
                                      encoding="utf-8")
    (folder / "说明.txt").write_text("导出说明：每月1日导出上月数据。\n", encoding="utf-8")
    return folder


def read_pack_frames(pack: Path) -> dict[str, pd.DataFrame]:
    """The contract tables of a pack folder of CSV and Parquet files (the sample's), as pandas frames."""
    out: dict[str, pd.DataFrame] = {}
    for table in EXPECTED:
        pq, csv = pack / f"{table}.parquet", pack / f"{table}.csv"
        if pq.is_file():
            out[table] = pd.read_parquet(pq)
        elif csv.is_file():
            out[table] = pd.read_csv(csv, dtype={"action_id": str, "campaign_id": str, "metric": str,
                                                 "period": str, "ticket_id": str, "content_id": str})
    return out
