"""``python -m benchmarks``: measure floor, batch, rerun, naive baseline, compute against pandas and scaling.

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

PARTS = ("floor", "work", "batch", "naive", "compute", "scaling")


def _scales(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not out or any(x <= 0 for x in out):
        raise argparse.ArgumentTypeError(f"scales must be positive numbers, e.g. 1,10; got {text!r}")
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
    p.add_argument("--only", type=_parts, default=list(PARTS), help=f"parts to run (default all: {','.join(PARTS)})")
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
    ratios = res.get("ratios", {})
    if ratios:
        lines.append("ratios: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    return "\n".join(lines)


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

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    res: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"quick": quick, "repeats": repeats, "scales": scales, "naive_scales": naive_scales,
                     "compute_scale": compute_scale, "scaling": scaling, "parts": args.only, "seed": bm.SEED},
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
    if failed:
        print(f"problems: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
