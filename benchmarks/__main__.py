"""``python -m benchmarks``: measure floor, batch, rerun, naive baseline, compute against pandas and scaling;
on request (``--only warehouse,duckdb30``) the warehouse engines and the DuckDB batch at scale 30.

Prints a table of ratios (what we track) and writes ``benchmarks/results.json``. See ``--help``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchmarks as bm
import benchmarks.warehouse as bm_wh

#: Parts run by default.
DEFAULT_PARTS = ("floor", "work", "batch", "naive", "compute", "scaling")
#: Every part: the default ones, then those run only when named (they need a PostgreSQL server and Java,
#: and the scale-30 pack: see the README's "Warehouse packs").
PARTS = (*DEFAULT_PARTS, "warehouse", "duckdb30", "units")


def _scales(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not out or any(x <= 0 for x in out):
        raise argparse.ArgumentTypeError(f"scales must be positive numbers, e.g. 1,10; got {text!r}")
    return out


def _engines(text: str) -> list[str]:
    out = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in out if x not in bm_wh.ENGINES]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"unknown engines {bad}; known: {', '.join(bm_wh.ENGINES)}")
    return out


def _sections(text: str) -> list[str]:
    out = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in out if x not in bm_wh.SECTIONS]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"unknown sections {bad}; known: {', '.join(bm_wh.SECTIONS)}")
    return out


def _parts(text: str) -> list[str]:
    out = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in out if x not in PARTS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown parts {bad}; known: {', '.join(PARTS)}")
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: scale 0.1, 1 repeat, scaling on 0.05 and 0.1 (about two minutes)")
    p.add_argument("--repeats", type=int, default=None, help="repeats per measurement (default 3; --quick: 1)")
    p.add_argument("--scales", type=_scales, default=None,
                   help="sample-pack scales for the batch and naive runs (default 1,10)")
    p.add_argument("--compute-scale", type=float, default=None,
                   help="scale of the ours-vs-pandas compute comparison (default: the largest of --scales)")
    p.add_argument("--scaling", type=_scales, default=None,
                   help="scales of the compute scaling fit (default 1,10; add 30 for a longer run)")
    p.add_argument("--naive-scales", type=_scales, default=None,
                   help="scales for the naive baseline (default: --scales)")
    p.add_argument("--only", type=_parts, default=list(DEFAULT_PARTS),
                   help=f"parts to run (default: {','.join(DEFAULT_PARTS)}; also: warehouse, duckdb30, units)")
    p.add_argument("--warehouse-scales", type=_scales, default=None,
                   help="scales of the warehouse part (default 1,10; --quick: 0.02)")
    p.add_argument("--warehouse-engines", type=_engines, default=None,
                   help=f"engines of the warehouse part (default {','.join(bm_wh.ENGINES)})")
    p.add_argument("--warehouse-timeout", type=float, default=1800.0,
                   help="seconds each warehouse child process may run (default 1800)")
    p.add_argument("--warehouse-sections", type=_sections, default=list(bm_wh.SECTIONS),
                   help="sections the warehouse part runs (default all five)")
    p.add_argument("--no-decision", action="store_true",
                   help="warehouse part: skip the user_days temp-table vs per-query comparison on PostgreSQL")
    p.add_argument("--duckdb30-scale", type=float, default=None,
                   help="scale of the whole-batch memory check on DuckDB (default 30; --quick: 0.1)")
    p.add_argument("--work", type=Path, default=bm.WORK, help="folder of generated packs and scratch projects")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results.json",
                   help="where to write the results JSON")
    return p


def _fmt(x: float | None, unit: str = "s") -> str:
    if x is None:
        return "—"
    return f"{x:.2f} {unit}" if unit else f"{x:.2f}"


def table(res: dict[str, Any]) -> str:
    """The printed summary: absolute times (min / median) and the ratios we track."""
    lines = []
    floor = res.get("floor")
    if floor:
        w = floor["wall_s"]
        lines.append(f"floor (2 pool kernels, trivial notebooks, export){_fmt(w['min'])} min  {_fmt(w['median'])} median"
                     f"   peak RSS {floor['rss_peak_mb']:.0f} MB")
    for sc, wk in res.get("work", {}).items():
        secs = ", ".join(f"{k} {v['min']:.1f}" for k, v in wk["sections_s"].items())
        lines.append(f"work scale {sc:<6} (in one process)            {_fmt(wk['total_s']['min'])} min  "
                     f"{_fmt(wk['total_s']['median'])} median   CPU {_fmt(wk['cpu_s']['min'])}   imports "
                     f"{_fmt(wk['imports_s']['min'])}")
        lines.append(f"    sections (min s): {secs}")
    for sc, b in res.get("batch", {}).items():
        w, rr = b["wall_s"], b["rerun_s"]
        lines.append(f"batch scale {sc:<6}                            {_fmt(w['min'])} min  {_fmt(w['median'])} median"
                     f"   peak RSS {b['rss_peak_mb']:.0f} MB{'' if b['ok'] else '   FAILED ' + ','.join(b['errors'])}")
        secs = ", ".join(f"{k} {v['min']:.1f}" for k, v in b["sections_s"].items())
        lines.append(f"    sections (min s): {secs}")
        lines.append(f"    rerun, nothing changed: {_fmt(rr['min'])} min (all reused: {b['rerun_all_reused']})")
        if b.get("cold_s", {}).get("min") is not None:
            lines.append(f"    cold, new pack content (store built in the run): {_fmt(b['cold_s']['min'])} min  "
                         f"{_fmt(b['cold_s']['median'])} median")
    for sc, n in res.get("naive", {}).items():
        w = n["wall_s"]
        lines.append(f"naive scale {sc:<6} (papermill + nbconvert CLI) {_fmt(w['min'])} min  {_fmt(w['median'])} median"
                     f"   peak RSS {n['rss_peak_mb']:.0f} MB{'' if n['ok'] else '   FAILED ' + ','.join(n['errors'])}")
    comp = res.get("compute")
    if comp:
        lines.append(f"compute at scale {comp['scale']:g} ({comp['period']}):  ours min s (store | files) | "
                     "pandas min s | pandas/ours (store | files) | identical")
        for name, a in comp["analyses"].items():
            files = a.get("ours_files_s", {}).get("min")
            lines.append(f"    {name:<12} {a['ours_s']['min']:>8.3f} | {'—' if files is None else f'{files:.3f}'} | {a['pandas_s']['min']:>8.3f} | "
                         f"{_fmt(a['pandas_over_ours'], '')} | {_fmt(a.get('pandas_over_ours_files'), '')} | "
                         f"{a['identical']}")
        st = (comp.get("derived") or {}).get("store")
        ud = (comp.get("derived") or {}).get("user_days")
        if st and ud:
            lines.append(f"    store, built once per pack content: {st['s']['min']:.3f} s, {st['bytes'] / 1e6:.0f} MB "
                         f"(user_days alone {ud['s']['min']:.3f} s: {ud['rows']:,} rows from {ud['events_rows']:,} "
                         "events)")
    sc = res.get("scaling")
    if sc:
        lines.append("scaling of our compute (min s per scale; exponent b of t ≈ a·scale^b):")
        for name in sc["fit"]:
            vals = "  ".join(f"{s}: {sc['seconds'][s][name]:.3f}" for s in sc["seconds"])
            fit = sc["fit"][name]
            lines.append(f"    {name:<12} {vals}   b = {fit['b'] if fit else '—'}")
    lines += warehouse_table(res)
    ratios = res.get("ratios", {})
    if ratios:
        lines.append("ratios: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    return "\n".join(lines)


def warehouse_table(res: dict[str, Any]) -> list[str]:
    """The warehouse part and the DuckDB scale-30 batch, as printed lines."""
    lines: list[str] = []
    wh = res.get("warehouse")
    if wh:
        lines.append("warehouse packs: engine@scale  load s | sections s (goals campaigns insights problems plan) | "
                     "queries | query s | derived s | rows back | Python peak MB (JVM)")
        for engine, per in wh["runs"].items():
            for sc, r in per.items():
                ld = (wh["loads"].get(engine) or {}).get(sc) or {}
                secs = " ".join(f"{(r['sections'].get(s) or {}).get('s', 0):.1f}" for s in bm_wh.SECTIONS
                                if s in r["sections"])
                jvm = f" ({r['jvm_peak_mb']:.0f})" if r.get("jvm_peak_mb") else ""
                lines.append(f"    {engine + '@' + sc:<14} {_fmt(ld.get('s'))} | {_fmt(r['total_s'])} ({secs}) | "
                             f"{r['queries']} | {_fmt(r['query_s'])} | {_fmt(r['materialise_s'])} | {r['rows']} | "
                             f"{r['python_peak_mb']}{jvm}{'' if r.get('ok') else '   FAILED'}")
        for engine, why in wh.get("skipped", {}).items():
            lines.append(f"    {engine}: skipped: {why}")
        for sc, eq in wh.get("rows_equal_across_engines", {}).items():
            lines.append(f"    rows brought back at scale {sc} equal across {', '.join(eq['engines'])}: {eq['equal']}")
        for engine, v in wh.get("rows_vs_scale", {}).items():
            p = wh.get("python_rss_vs_scale", {}).get(engine, {})
            lines.append(f"    {engine}: rows back {v['rows'][0]} → {v['rows'][1]} (×{v['ratio']}), Python peak "
                         f"{p.get('python_peak_mb', ['—', '—'])[0]} → {p.get('python_peak_mb', ['—', '—'])[1]} MB "
                         f"(×{p.get('ratio')}) from scale {v['scales'][0]} to {v['scales'][1]}")
        for engine, g in wh.get("goals", {}).items():
            lines.append(f"    goal {engine}@{g['scale']}: Python peak {g['python_peak_mb']} MB under 1 GB: "
                         f"{g['under_1gb']}; independent of scale: RSS {g['rss_independent_of_scale']}, rows "
                         f"{g['rows_independent_of_scale']}")
        d = wh.get("decision") or {}
        if d.get("total"):
            t = d["total"]
            lines.append(f"    user_days on PostgreSQL@{d['scale']}: temp tables {t['temp_build_s']:.2f} s + queries "
                         f"{t['temp_query_s']:.2f} s = {d['temp_total_s']:.2f} s; computed in every query: "
                         f"{d['inline_total_s']:.2f} s ({t['queries_reading_user_days']} of {t['queries']} queries "
                         "read it)")
    d30 = res.get("duckdb30")
    if d30:
        for kind, r in d30["runs"].items():
            lines.append(f"DuckDB batch at scale {d30['scale']:g} ({d30.get('events') or '?'} events, {kind}): "
                         f"{_fmt(r['wall_s'])}, peak RSS {r['rss_peak_gb']:.2f} GB (goal {d30['goal_gb']:g} GB: "
                         f"{'met' if r['within_goal'] else 'NOT met'}){'' if r['ok'] else '   FAILED'}")
    return lines


def ratios(res: dict[str, Any]) -> dict[str, float | None]:
    """batch/floor, batch/bound, naive/batch per scale; pandas/ours per analysis; rerun/batch."""
    out: dict[str, float | None] = {}
    floor = (res.get("floor") or {}).get("wall_s", {}).get("min")
    workers = 2
    for sc, b in res.get("batch", {}).items():
        out[f"batch/floor@{sc}"] = bm.ratio(b["wall_s"]["min"], floor)
        wk = res.get("work", {}).get(sc)
        if wk and floor is not None:
            # no schedule beats: the machinery, one kernel's imports, and the work's CPU spread over the workers
            bound = floor + wk["imports_s"]["min"] + wk["cpu_s"]["min"] / workers
            out[f"bound@{sc}"] = round(bound, 2)
            out[f"batch/bound@{sc}"] = bm.ratio(b["wall_s"]["min"], bound)
        out[f"rerun/batch@{sc}"] = bm.ratio(b["rerun_s"]["min"], b["wall_s"]["min"])
        if b.get("cold_s", {}).get("min") is not None:
            out[f"cold/floor@{sc}"] = bm.ratio(b["cold_s"]["min"], floor)
            out[f"cold/batch@{sc}"] = bm.ratio(b["cold_s"]["min"], b["wall_s"]["min"])
        n = res.get("naive", {}).get(sc)
        if n:
            out[f"naive/batch@{sc}"] = bm.ratio(n["wall_s"]["min"], b["wall_s"]["min"])
    for name, a in (res.get("compute") or {}).get("analyses", {}).items():
        out[f"pandas/ours:{name}"] = a["pandas_over_ours"]
        out[f"pandas/ours-files:{name}"] = a.get("pandas_over_ours_files")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    scales = args.scales or ([0.1] if quick else [1.0, 10.0])
    naive_scales = args.naive_scales or scales
    compute_scale = args.compute_scale or max(scales)
    scaling = args.scaling or ([0.05, 0.1] if quick else [1.0, 10.0])
    wh_scales = args.warehouse_scales or ([0.02] if quick else [1.0, 10.0])
    wh_engines = args.warehouse_engines or list(bm_wh.ENGINES)
    d30_scale = args.duckdb30_scale or (0.1 if quick else 30.0)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    res: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"quick": quick, "repeats": repeats, "scales": scales, "naive_scales": naive_scales,
                     "compute_scale": compute_scale, "scaling": scaling, "parts": args.only, "seed": bm.SEED,
                     "warehouse_scales": wh_scales, "warehouse_engines": wh_engines, "duckdb30_scale": d30_scale},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
    }
    t0 = time.perf_counter()
    if "floor" in args.only:
        log("(a) floor: the batch's machinery on trivial notebooks")
        res["floor"] = bm.bench_floor(repeats, args.work, log)
    if "work" in args.only:
        log("(a') the sections' own work, in one process (no kernel, no export)")
        res["work"] = {f"{s:g}": bm.bench_work(s, repeats, args.work, log) for s in scales}
    if "batch" in args.only:
        log("(b) our batch")
        res["batch"] = {f"{s:g}": bm.bench_batch(s, repeats, args.work, log) for s in scales}
    if "naive" in args.only:
        log("(c) naive baseline: papermill + nbconvert CLI per notebook, in series")
        res["naive"] = {f"{s:g}": bm.bench_naive(s, repeats, args.work, log) for s in naive_scales}
    known: dict[float, dict[str, float]] = {}
    if "compute" in args.only:
        log(f"(d) compute: ours against pandas at scale {compute_scale:g}")
        res["compute"] = bm.bench_compute(compute_scale, repeats, args.work, log)
        known[compute_scale] = {k: v["ours_s"]["min"] for k, v in res["compute"]["analyses"].items()}
    if "scaling" in args.only:
        log(f"(e) scaling of our compute over scales {', '.join(f'{s:g}' for s in scaling)}")
        res["scaling"] = bm.bench_scaling(scaling, repeats, args.work, known, log)
    if "warehouse" in args.only:
        log(f"(f) warehouse packs: {', '.join(wh_engines)} at scales {', '.join(f'{s:g}' for s in wh_scales)}")
        res["warehouse"] = bm.bench_warehouse(wh_scales, wh_engines, work=args.work, timeout=args.warehouse_timeout,
                                              decision=not args.no_decision, sections=args.warehouse_sections,
                                              log=log)
    if "duckdb30" in args.only:
        log(f"(g) the whole batch on DuckDB at scale {d30_scale:g} (peak RSS of its process tree)")
        res["duckdb30"] = bm.bench_duckdb30(d30_scale, work=args.work, log=log)
    if "units" in args.only:
        from benchmarks.units import bench_units

        n_units, u_scale = (4, 0.05) if quick else (24, 0.1)
        log(f"(h) {n_units} units at scale {u_scale:g}: shell loop, shared local pool, 2-worker Dask LocalCluster")
        res["units"] = bench_units(n_units, u_scale, work=args.work, log=log)
    res["ratios"] = ratios(res)
    res["total_s"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(table(res))
    print(f"results written to {args.out} ({res['total_s']:.0f} s)")
    failed = [k for k in ("floor",) if res.get(k) and not res[k]["ok"]]
    failed += [f"batch@{k}" for k, v in res.get("batch", {}).items() if not v["ok"]]
    failed += [f"naive@{k}" for k, v in res.get("naive", {}).items() if not v["ok"]]
    failed += [f"identical:{k}" for k, v in (res.get("compute") or {}).get("analyses", {}).items()
               if not v["identical"]]
    wh = res.get("warehouse") or {}
    failed += [f"warehouse:{k}" for k in wh.get("errors", {})]
    failed += [f"warehouse-rows-differ@{k}" for k, v in wh.get("rows_equal_across_engines", {}).items()
               if not v["equal"]]
    units = res.get("units") or {}
    failed += [f"units:{m}" for m in ("serial", "local", "dask") if m in units and not units[m]["ok"]]
    d30 = res.get("duckdb30")
    if d30 and not d30["ok"]:
        failed.append("duckdb30")
    elif d30 and not d30["within_goal"]:
        failed.append(f"duckdb30-over-{d30['goal_gb']:g}GB")
    if failed:
        print(f"problems: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
