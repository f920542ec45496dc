"""Build the bad-input corpus: one tiny pack folder per case under ``cases/`` plus ``cases.yaml``.

Run ``python tests/badinput/build.py`` after changing a case; the generated files are committed so
CI is deterministic. Each case in ``cases.yaml`` has:

* ``path``: the pack folder (relative to this file);
* ``errors``: fragments that must all appear in ``format_problems`` (and the pack must not open);
* ``warnings``: fragments of warnings (the pack must open when there are no ``errors``);
* ``values``: ``{"table.column": [expected values in file order]}`` checked on the opened pack.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "cases"

KPIS = "metric,period,target\ngmv,2026-10,1000000\n"
ORD = "order_id,user_id,ts,amount,status\n"
CAMP = "campaign_id,name,type,start,end,cost\n"


def csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def xlsx(sheets: dict[str, list[list[object]]], formats: dict[tuple[str, str], str] | None = None) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    for (sheet, cell), fmt in (formats or {}).items():
        wb[sheet][cell].number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet(df_builder) -> bytes:  # noqa: ANN001
    import io

    buf = io.BytesIO()
    df_builder().to_parquet(buf, index=False)
    return buf.getvalue()


def _orders_aware():
    import pandas as pd

    return pd.DataFrame({"order_id": ["A1", "A2"], "user_id": ["u1", "u2"],
                         "ts": pd.to_datetime(["2026-01-31T20:00:00Z", "2026-02-01T01:00:00Z"]),
                         "amount": [10.0, 20.0]})


def _orders_text_ts():
    import pandas as pd

    return pd.DataFrame({"order_id": ["A1", "A2"], "user_id": ["u1", "u2"], "ts": ["2026/10/01", "bad"],
                         "amount": [10.0, 20.0]})


def cases() -> dict[str, dict]:
    """name → {"files": {file name: bytes}, expectations…}."""
    k = {"kpis.csv": csv(KPIS)}
    many_bad = ORD + "".join(f"O{i},u1,2026-10-01,oops{i},paid\n" for i in range(300))
    return {
        # ---- encodings
        "gb18030_ok": {"files": {**k, "users.csv": csv("user_id,signup_at,channel,region\n001,2026-10-01,微信,华东\n"
                                                        "002,2026-10-02,抖音,华南\n", "gb18030")},
                       "values": {"users.channel": ["微信", "抖音"], "users.region": ["华东", "华南"],
                                  "users.user_id": ["001", "002"]}},
        "latin1_fails": {"files": {**k, "users.csv": csv("user_id,signup_at,channel\n1,2026-10-01,web\n"
                                                         "2,2026-10-02,café,\n", "latin-1")},
                         "errors": ["users.csv", "line 3", "utf-8-sig, gb18030"]},
        "bom_ok": {"files": {**k, "orders.csv": b"\xef\xbb\xbf" + csv(ORD + "A1,u1,2026-10-01,5,paid\n")},
                   "values": {"orders.order_id": ["A1"]}},
        "encoding_in_yaml_ok": {"files": {**k, "users.csv": csv("user_id,signup_at,channel\n1,2026-10-01,微博\n", "gbk"),
                                          "pack.yaml": csv("tables:\n  users: {file: users.csv, encoding: gbk}\n")},
                                "values": {"users.channel": ["微博"]}},
        # ---- numbers
        "thousands_ok": {"files": {**k, "orders.csv": csv(ORD + 'A1,u1,2026-10-01,"1,200",paid\n'
                                                              'A2,u1,2026-10-01,"1,234,567.5",paid\n')},
                         "values": {"orders.amount": [1200.0, 1234567.5]}},
        "currency_ok": {"files": {**k, "orders.csv": csv(ORD + 'A1,u1,2026-10-01,"¥1,200.50",paid\n'
                                                             "A2,u1,2026-10-01,￥99,paid\nA3,u1,2026-10-01,$5,paid\n"
                                                             "A4,u1,2026-10-01,-¥30,refunded\nA5,u1,2026-10-01,88元,\n")},
                        "values": {"orders.amount": [1200.5, 99.0, 5.0, -30.0, 88.0]}},
        "fullwidth_ok": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,１２００,paid\n"
                                                              "A2,u1,2026-10-01,１，２００．５,paid\n")},
                         "values": {"orders.amount": [1200.0, 1200.5]}},
        "percent_ok": {"files": {"kpis.csv": csv("metric,period,target\nconversion_rate,2026-10,15%\n"
                                                 "conversion_rate,2026-11,0.16\ngmv,2026-10,\"1,000,000\"\n"
                                                 "roi,2026-10,3.2\n")},
                       "values": {"kpis.target": [0.15, 0.16, 1000000.0, 3.2]}},
        "mixed_percent": {"files": {"kpis.csv": csv("metric,period,target\nconversion_rate,2026-10,15%\n"
                                                    "conversion_rate,2026-11,0.15\nconversion_rate,2026-12,15\n"
                                                    "gmv,2026-10,15\n")},
                          "errors": ["kpis.csv", "column 'target'", "line 4", "'15'", "ambiguous ratio", "15% or 0.15"]},
        "percent_in_amount": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,15%,paid\n")},
                              "errors": ["orders.csv", "column 'amount'", "line 2", "'15%'", "not a ratio"]},
        "bad_thousands": {"files": {**k, "orders.csv": csv(ORD + 'A1,u1,2026-10-01,"1,20",paid\n')},
                          "errors": ["column 'amount'", "line 2", "'1,20'", "not a number", "1,200.50"]},
        "nan_strings": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,nan,paid\nA2,u1,2026-10-01,NULL,paid\n"
                                                             "A3,u1,2026-10-01,N/A,paid\nA4,u1,2026-10-01,—,paid\n"
                                                             "A5,u1,2026-10-01,-,paid\n")},
                        "errors": ["column 'amount'", "line 2", "'nan'", "line 3", "'NULL'", "line 4", "'N/A'",
                                   "line 5", "'—'", "line 6", "'-'", "empty value in a required column"]},
        "nan_strings_optional": {"files": {**k, "campaigns.csv": csv(CAMP.strip() + ",reach\n"
                                                                     "C1,双11,promo,2026-11-01,2026-11-11,100,N/A\n"
                                                                     "C2,618,promo,2026-06-01,2026-06-18,100,-\n"
                                                                     "C3,国庆,promo,2026-10-01,2026-10-07,100,1200\n")},
                                 "warnings": ["campaigns.csv", "column 'reach'", "2 cell(s) read as missing", "'N/A'"],
                                 "values": {"campaigns.reach": [None, None, 1200]}},
        "not_whole": {"files": {**k, "campaigns.csv": csv(CAMP.strip() + ",reach\nC1,a,promo,2026-11-01,2026-11-11,1,3.5\n")},
                      "errors": ["column 'reach'", "line 2", "'3.5'", "not a whole number"]},
        "negative_cost": {"files": {**k, "campaigns.csv": csv(CAMP + "C1,a,promo,2026-11-01,2026-11-11,-100\n")},
                          "errors": ["campaigns.csv", "column 'cost'", "line 2", "negative value"]},
        "bad_bool": {"files": {**k, "users.csv": csv("user_id,signup_at,is_member\n1,2026-10-01,是\n2,2026-10-01,maybe\n")},
                     "errors": ["users.csv", "column 'is_member'", "line 3", "'maybe'", "yes/no"]},
        "too_many_errors": {"files": {**k, "orders.csv": csv(many_bad)},
                            "errors": ["column 'amount'", "line 2", "'oops0'", "line 11", "… and 290 more"]},
        # ---- dates
        "cn_date_ok": {"files": {**k, "campaigns.csv": csv(CAMP + "C1,国庆,promo,2026年10月1日,2026年10月7日,100\n")},
                       "values": {"campaigns.start": ["2026-10-01 00:00:00"], "campaigns.end": ["2026-10-07 00:00:00"]}},
        "slash_date_ok": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026/10/01,5,paid\nA2,u1,2026/10/2 8:30,5,paid\n")},
                          "values": {"orders.ts": ["2026-10-01 00:00:00", "2026-10-02 08:30:00"]}},
        "excel_serial_csv_ok": {"files": {**k, "campaigns.csv": csv(CAMP + "C1,a,promo,46296,46302,100\n")},
                                "values": {"campaigns.start": ["2026-10-01 00:00:00"], "campaigns.end": ["2026-10-07 00:00:00"]}},
        "excel_serial_out_of_range": {"files": {**k, "campaigns.csv": csv(CAMP + "C1,a,promo,99999,46302,100\n")},
                                      "errors": ["column 'start'", "line 2", "'99999'", "Excel date range"]},
        "bad_dates_mixed": {"files": {**k, "events.csv": csv("user_id,ts,event\nu1,2026-10-01 08:00:00,visit\n"
                                                             "u1,2026-13-01,visit\nu2,2026/10/02,visit\n"
                                                             "u2,yesterday,visit\nu3,2026年10月3日,visit\n")},
                            "errors": ["events.csv", "column 'ts'", "line 3", "'2026-13-01'", "line 5", "'yesterday'",
                                       "not a date/time"]},
        "year_out_of_range": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,1900-01-01,5,paid\n")},
                              "errors": ["column 'ts'", "line 2", "1970"]},
        "tz_aware_ok": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-01-31T20:00:00Z,5,paid\n"
                                                             "A2,u1,2026-01-31T20:00:00+08:00,5,paid\n"
                                                             "A3,u1,2026-01-31 20:00:00,5,paid\n")},
                        "values": {"orders.ts": ["2026-02-01 04:00:00", "2026-01-31 20:00:00", "2026-01-31 20:00:00"]}},
        # ---- ids
        "leading_zero_ok": {"files": {**k, "orders.csv": csv(ORD + "00123,007,2026-10-01,5,paid\n")},
                            "values": {"orders.order_id": ["00123"], "orders.user_id": ["007"]}},
        "xlsx_ids_dates_ok": {"files": {**k, "orders.xlsx": xlsx(
            {"orders": [["order_id", "user_id", "ts", "amount", "status"],
                        ["00123", 123, "2026-10-01 08:00", 12.5, "paid"],
                        [124, 5, 46296.5, 7, None]]},
            formats={("orders", "B3"): "00000"})},
            "values": {"orders.order_id": ["00123", "124"], "orders.user_id": ["123", "00005"],
                       "orders.ts": ["2026-10-01 08:00:00", "2026-10-01 12:00:00"]}},
        "xlsx_datetime_cells_ok": {"files": {**k, "campaigns.xlsx": xlsx(
            {"campaigns": [["campaign_id", "name", "type", "start", "end", "cost"],
                           ["C1", "国庆", "promo", __import__("datetime").datetime(2026, 10, 1),
                            __import__("datetime").date(2026, 10, 7), 1000]]})},
            "values": {"campaigns.start": ["2026-10-01 00:00:00"], "campaigns.end": ["2026-10-07 00:00:00"]}},
        # ---- structure
        "empty_file": {"files": {**k, "orders.csv": b""}, "errors": ["orders.csv", "the file is empty"]},
        "header_only": {"files": {**k, "campaigns.csv": csv(CAMP)},
                        "warnings": ["campaigns.csv", "header but no rows"]},
        "kpis_header_only": {"files": {"kpis.csv": csv("metric,period,target\n")},
                             "errors": ["kpis.csv", "header but no rows"]},
        "missing_column": {"files": {**k, "orders.csv": csv("order_id,user_id,ts\nA1,u1,2026-10-01\n")},
                           "errors": ["orders.csv", "column 'amount'", "required column is missing",
                                      "'order_id', 'user_id', 'ts'"]},
        "misspelled_column": {"files": {**k, "orders.csv": csv("order_id,user id,ts,amount\nA1,u1,2026-10-01,5\n")},
                              "errors": ["orders.csv", "column 'user id' is not known; did you mean 'user_id'?"]},
        "misspelled_optional_column": {"files": {**k, "orders.csv": csv("order_id,user_id,ts,amount,chanel\n"
                                                                        "A1,u1,2026-10-01,5,app\n")},
                                       "warnings": ["column 'chanel' is not known; did you mean 'channel'?"]},
        "extra_column": {"files": {**k, "orders.csv": csv(ORD.strip() + ",coupon\nA1,u1,2026-10-01,5,paid,X9\n")},
                         "warnings": ["orders.csv", "column 'coupon'", "kept as text"],
                         "values": {"orders.coupon": ["X9"]}},
        "duplicate_column": {"files": {**k, "orders.csv": csv("order_id,user_id,ts,amount,amount\nA1,u1,2026-10-01,5,6\n")},
                             "errors": ["column 'amount'", "more than once"]},
        "ragged_row": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\nA2,u1,2026-10-01,5,paid,x,y\n")},
                       "errors": ["orders.csv", "line 3", "7 fields", "5 fields"]},
        "duplicate_order_id": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\nA2,u1,2026-10-01,5,paid\n"
                                                                    "A1,u2,2026-10-02,6,paid\nA3,u1,2026-10-01,5,paid\n"
                                                                    "A3,u1,2026-10-01,5,paid\n")},
                               "errors": ["orders.csv", "duplicate key (order_id)", "2 value(s) repeated over 4 rows",
                                          "'A1' (lines 2, 4)", "'A3' (lines 5, 6)"]},
        "negative_amount_not_refund": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,-5,refunded\n"
                                                                            "A2,u1,2026-10-01,-6,paid\nA3,u1,2026-10-01,-7,\n")},
                                       "errors": ["orders.csv", "column 'amount'", "line 3", "-6.0", "line 4", "-7.0",
                                                  "not 'refunded'"]},
        "unknown_status": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,5,已支付\nA2,u1,2026-10-01,5,PAID\n")},
                           "warnings": ["column 'status'", "line 2", "'已支付'", "paid, refunded, cancelled"]},
        "campaign_end_before_start": {"files": {**k, "campaigns.csv": csv(CAMP + "C1,a,promo,2026-10-01,2026-10-07,1\n"
                                                                          "C2,b,promo,2026-10-09,2026-10-08,1\n")},
                                      "errors": ["campaigns.csv", "column 'end'", "line 3", "'end' is before 'start'",
                                                 "2026-10-08 < 2026-10-09"]},
        "action_due_before_start": {"files": {**k, "actions.csv": csv("action_id,title,owner,start,due\n"
                                                                      "X1,复盘,张三,2026-10-10,2026-10-01\n")},
                                    "errors": ["actions.csv", "column 'due'", "line 2", "'due' is before 'start'"]},
        "kpis_zero_target": {"files": {"kpis.csv": csv("metric,period,target\ngmv,2026-10,0\n")},
                             "warnings": ["kpis.csv", "column 'target'", "line 2", "target is 0"]},
        "kpis_empty_target": {"files": {"kpis.csv": csv("metric,period,target\ngmv,2026-10,100\norders,2026-10,\n")},
                              "errors": ["kpis.csv", "column 'target'", "line 3", "empty value in a required column"]},
        "no_kpis": {"files": {"orders.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\n")}, "errors": ["no kpis table"]},
        "table_twice": {"files": {**k, "orders.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\n"),
                                  "orders.tsv": csv(ORD.replace(",", "\t") + "A1\tu1\t2026-10-01\t5\tpaid\n")},
                        "errors": ["table 'orders' is given twice"]},
        "tsv_ok": {"files": {**k, "orders.tsv": csv(ORD.replace(",", "\t") + 'A1\tu1\t2026-10-01\t"1,200"\tpaid\n')},
                   "values": {"orders.amount": [1200.0]}},
        "unknown_file": {"files": {**k, "order.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\n")},
                         "warnings": ["order.csv", "not a pack table name", "did you mean 'orders'?"]},
        "unsupported_xls": {"files": {**k, "orders.xls": b"not really"},
                            "warnings": ["orders.xls", "'.xls' files are not read", ".xlsx"]},
        "xlsx_wrong_sheet": {"files": {**k, "orders.xlsx": xlsx({"Data": [["order_id"]], "Notes": [["x"]]})},
                             "errors": ["orders.xlsx", "none named 'orders'", "sheets found: 'Data', 'Notes'"]},
        "xlsx_two_sheets_one_named_ok": {"files": {**k, "orders.xlsx": xlsx(
            {"Notes": [["readme"]], "orders": [["order_id", "user_id", "ts", "amount"], ["A1", "u1", "2026-10-01", 5]]})},
            "values": {"orders.amount": [5.0]}},
        "xlsx_single_sheet_any_name_ok": {"files": {**k, "orders.xlsx": xlsx(
            {"Sheet1": [["order_id", "user_id", "ts", "amount"], ["A1", "u1", "2026-10-01", 5]]})},
            "values": {"orders.order_id": ["A1"]}},
        "xlsx_bad_cells": {"files": {**k, "orders.xlsx": xlsx(
            {"orders": [["order_id", "user_id", "ts", "amount"], ["A1", "u1", "2026-10-01", 5],
                        [None, None, None, None], ["A2", "u1", "soon", "x"]]})},
            "errors": ["orders.xlsx", "sheet 'orders'", "column 'ts'", "row 4", "'soon'", "column 'amount'", "'x'"]},
        "yaml_mapping_ok": {"files": {**k, "订单导出.xlsx": xlsx(
            {"Sheet1": [["订单号", "用户ID", "下单时间", "实付金额"], ["00001", "u1", "2026年10月1日", "¥1,200"]],
             "说明": [["导出说明"]]}),
            "pack.yaml": csv("tables:\n  orders: {file: 订单导出.xlsx, sheet: Sheet1, columns: "
                             "{订单号: order_id, 用户ID: user_id, 下单时间: ts, 实付金额: amount}}\n")},
            "values": {"orders.order_id": ["00001"], "orders.amount": [1200.0], "orders.ts": ["2026-10-01 00:00:00"]}},
        "yaml_sheet_missing": {"files": {**k, "o.xlsx": xlsx({"Sheet1": [["order_id"]]}),
                                         "pack.yaml": csv("tables:\n  orders: {file: o.xlsx, sheet: Sheet9}\n")},
                               "errors": ["o.xlsx", "no sheet named 'Sheet9'", "sheets found: 'Sheet1'"]},
        "yaml_syntax": {"files": {**k, "pack.yaml": csv("tables:\n  orders: {file: o.csv\n  users: x\n")},
                        "errors": ["pack.yaml", "not valid YAML", "line"]},
        "yaml_unknown_table": {"files": {**k, "o.csv": csv(ORD), "pack.yaml": csv("tables:\n  ordres: {file: o.csv}\n")},
                               "errors": ["pack.yaml", "'ordres' is not a pack table", "did you mean 'orders'?"]},
        "yaml_unknown_key": {"files": {**k, "o.csv": csv(ORD), "pack.yaml": csv("tables:\n  orders: {file: o.csv, colums: {}}\n")},
                             "errors": ["pack.yaml", "unknown key 'colums'", "did you mean 'columns'?"]},
        "yaml_unknown_target": {"files": {**k, "o.csv": csv("order_id,user_id,ts,金额\nA1,u1,2026-10-01,5\n"),
                                          "pack.yaml": csv("tables:\n  orders: {file: o.csv, columns: {金额: amout}}\n")},
                                "errors": ["pack.yaml", "'amout'", "did you mean 'amount'?"]},
        "yaml_missing_file": {"files": {**k, "pack.yaml": csv("tables:\n  orders: {file: orders_export.csv}\n")},
                              "errors": ["pack.yaml", "'orders_export.csv' is not in the pack folder"]},
        "yaml_source_column_absent": {"files": {**k, "o.csv": csv(ORD + "A1,u1,2026-10-01,5,paid\n"),
                                                "pack.yaml": csv("tables:\n  orders: {file: o.csv, columns: {金额: amount}}\n")},
                                      "errors": ["o.csv", "pack.yaml maps column '金额'", "no such column"]},
        # ---- parquet
        "parquet_aware_ok": {"files": {**k, "orders.parquet": parquet(_orders_aware)},
                             "values": {"orders.ts": ["2026-02-01 04:00:00", "2026-02-01 09:00:00"]}},
        "parquet_text_ts": {"files": {**k, "orders.parquet": parquet(_orders_text_ts)},
                            "errors": ["orders.parquet", "column 'ts'", "row 2", "'bad'"]},
    }


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    table = {}
    for name, case in cases().items():
        folder = OUT / name
        folder.mkdir(parents=True)
        for fname, data in case.pop("files").items():
            (folder / fname).write_bytes(data)
        table[name] = {"path": f"cases/{name}", **case}
    (HERE / "cases.yaml").write_text(
        "# Generated by build.py: case → pack folder and the fragments its report must contain.\n"
        + yaml.safe_dump(table, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    print(f"{len(table)} cases written to {OUT}")


if __name__ == "__main__":
    main()
