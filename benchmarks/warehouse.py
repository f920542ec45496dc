"""(f) warehouse packs and (g) the DuckDB batch at scale 30: what a review costs the Python side per engine.

``bench_warehouse`` runs the five section notebooks on the same sample pack read by each engine
(DuckDB from the pack's files and store, PostgreSQL from a schema, Spark from a local warehouse
folder), each (engine, scale) in a fresh Python process so its peak memory is its own; it records
per section the seconds, the engine's queries, rows brought back and seconds in queries, and the
seconds spent building derived (temporary) tables. ``bench_duckdb30`` runs a whole ``opsnb run``
batch on DuckDB at scale 30 as a subprocess and takes the peak RSS of its process tree (kernels
included). See ``benchmarks/README.md`` ("Warehouse packs").

The children are started as ``python -c "from benchmarks.warehouse import child; child()" JOB OUT``:
``JOB`` a JSON job, ``OUT`` the JSON file the child writes (after every section, so a child stopped
by its time limit leaves what it measured).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(__file__).resolve().parent / ".work"
SECTIONS = ("goals", "campaigns", "insights", "problems", "plan")
#: Engines of the warehouse part, in the order they run.
ENGINES = ("duckdb", "postgres", "spark")
#: Exceptions meaning "this engine is not there yet" (its module or class missing, not implemented):
#: the engine is skipped with the reason recorded. Any other error is recorded as an error and fails the part.
NOT_READY = ("ModuleNotFoundError", "ImportError", "NotImplementedError")
#: Goal of the issue: the Python side's peak RSS on a warehouse engine at scale 10.
PY_RSS_GOAL_MB = 1024
#: Goal of the issue: the whole DuckDB batch at scale 30.
BATCH_RSS_GOAL_GB = 4.0
#: "Independent of scale": the larger scale's figure within this factor of the smaller's.
SCALE_TOLERANCE = 1.10


def tag(scale: float) -> str:
    """Schema / database name of a scale: ``s1``, ``s10``, ``s0_02``."""
    return "s" + f"{scale:g}".replace(".", "_").replace("-", "_")


# ---------------------------------------------------------------- memory of a process


def hwm_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory (``VmHWM``) of process ``pid`` in MB, or None when it cannot be read.

    Per address space: unlike ``getrusage``'s ``ru_maxrss``, which a process started by
    ``vfork``/``exec`` inherits from its parent's high-water mark, it is this program's own peak.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def _descendants_hwm() -> dict[str, Any]:
    """Peak RSS of each process this one started (the JVM of a Spark session), read before they exit."""
    import psutil

    out: dict[str, Any] = {"mb": 0.0, "processes": []}
    for p in psutil.Process().children(recursive=True):
        try:
            name = p.name()
        except psutil.Error:
            continue
        mb = hwm_mb(p.pid)
        if mb is not None:
            out["mb"] = round(out["mb"] + mb, 1)
            out["processes"].append({"pid": p.pid, "name": name, "hwm_mb": mb})
    return out


# ---------------------------------------------------------------- the children (fresh processes)


def _instrument(state: dict[str, Any], *, inline_derived: bool) -> None:
    """Time every derived-table build and every query reading one (into ``state["record"]``), on every engine.

    ``inline_derived``: derived tables are not built at all; the name answers with the defining
    expression (without its ORDER BY), so every query that reads ``user_days`` computes it inside
    itself, the alternative to a temporary table built once per notebook.
    """
    import ibis.expr.operations as ops

    from opsnb.pack.engine import IbisEngine

    made = IbisEngine.materialise
    counted = IbisEngine._counted

    def materialise(self: Any, name: str, query: Any, *, replace: bool = False) -> Any:
        t0 = time.perf_counter()
        if inline_derived and not isinstance(query, str):
            op = query.op()
            self.define(name, op.parent.to_expr() if isinstance(op, ops.Sort) else query)
            out = self.table(name)
        else:
            out = made(self, name, query, replace=replace)
        state["record"]["materialise"].append({"name": name, "s": round(time.perf_counter() - t0, 4)})
        return out

    def reads_derived(expr: Any) -> bool:
        if inline_derived:
            return False  # the derived expression is inlined: no table to find
        try:
            return any(t.name.startswith("__derived_") for t in expr.op().find(ops.PhysicalTable))
        except Exception:  # noqa: BLE001 - not an Ibis expression (SQL text): not counted
            return False

    def _counted(self: Any, run: Callable[..., Any]) -> Callable[..., Any]:
        inner = counted(self, run)

        def wrapper(expr: Any, /, *args: Any, **kwargs: Any) -> Any:
            uses = reads_derived(expr)
            t0 = time.perf_counter()
            try:
                return inner(expr, *args, **kwargs)
            finally:
                if uses:
                    state["record"]["derived_queries"] += 1
                    state["record"]["derived_query_s"] += time.perf_counter() - t0

        return wrapper

    IbisEngine.materialise = materialise  # type: ignore[method-assign]
    IbisEngine._counted = _counted  # type: ignore[method-assign]


def sections_job(job: dict[str, Any], out: Path) -> dict[str, Any]:
    """The five sections on ``job["pack"]`` for ``job["period"]`` in this (fresh) process.

    Imports first (what a batch kernel imports once), then each section as the parity tests run it
    (:func:`tests.parity.shown`: every displayed object rendered to HTML). Per section: seconds, the
    engine's usage (queries, rows brought back, seconds in queries), derived-table builds, and this
    process's peak RSS so far. At the end the peak RSS of this process and of its children (the JVM).
    """
    os.environ["OPSNB_BATCH"] = "1"
    os.environ.setdefault("MPLBACKEND", "agg")
    res: dict[str, Any] = {"pack": job["shown"], "period": job["period"], "sections": {}}
    t0 = time.perf_counter()
    from opsnb.batch import warmup_code

    exec(warmup_code(), {})
    from tests.parity import shown

    res["imports_s"] = round(time.perf_counter() - t0, 3)
    res["rss_after_imports_mb"] = hwm_mb()
    state: dict[str, Any] = {}
    _instrument(state, inline_derived=bool(job.get("inline_derived")))
    with tempfile.TemporaryDirectory(prefix="opsnb-wh-") as run_dir:
        for sec in job.get("sections") or SECTIONS:
            record: dict[str, Any] = {"materialise": [], "derived_queries": 0, "derived_query_s": 0.0}
            state["record"] = record
            usage: dict[str, Any] = {}
            t = time.perf_counter()
            shown(job["pack"], job["period"], sections=(sec,), run_dir=run_dir, usage=usage)
            u = usage.get(sec, {})
            res["sections"][sec] = {
                "s": round(time.perf_counter() - t, 3), "queries": u.get("queries"), "rows": u.get("rows"),
                "query_s": u.get("seconds"), "largest_rows": u.get("largest_rows"), "largest_at": u.get("largest_at"),
                "materialise_s": round(sum(m["s"] for m in record["materialise"]), 3),
                "materialised": [m["name"] for m in record["materialise"]],
                "derived_queries": record["derived_queries"],
                "derived_query_s": round(record["derived_query_s"], 3),
                "python_rss_mb": hwm_mb(),
            }
            _write(out, res)
    res["python_peak_mb"] = hwm_mb()
    res["children"] = _descendants_hwm()
    res["done"] = True
    _write(out, res)
    return res


def load_job(job: dict[str, Any], out: Path) -> dict[str, Any]:
    """Copy the file pack ``job["folder"]`` into the warehouse ``job["url"]`` (:func:`opsnb.pack.warehouse.load`).

    For ``job["url"] == ""``, DuckDB's counterpart: build the pack's store (:func:`opsnb.pack.derived.warm`).
    """
    from opsnb.pack import open_pack

    tz = job["tz"]
    t0 = time.perf_counter()
    pack = open_pack(job["folder"], tz=tz)
    if job["url"]:
        from opsnb.pack.warehouse import load

        rows = load(pack, job["url"])
    else:
        from opsnb.pack.derived import warm

        warm(pack)
        rows = {n: int(pack.table(n).count().execute()) for n in pack.names}
    res = {"s": round(time.perf_counter() - t0, 3), "rows": rows, "python_peak_mb": hwm_mb(),
           "children": _descendants_hwm(), "done": True}
    _write(out, res)
    return res


def probe_job(job: dict[str, Any], out: Path) -> dict[str, Any]:
    """Open ``job["url"]`` as a pack (the engine answers at all); the tables it has."""
    from opsnb.pack import open_pack

    pack = open_pack(job["url"], tz=job["tz"])
    res = {"engine": pack.engine.name, "tables": list(pack.names), "done": True}
    pack.engine.close()
    _write(out, res)
    return res


JOBS: dict[str, Callable[[dict[str, Any], Path], dict[str, Any]]] = {
    "sections": sections_job, "load": load_job, "probe": probe_job}


def _write(out: Path, res: dict[str, Any]) -> None:
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, out)


def child() -> None:
    """Entry point of a child process: ``argv[1]`` the JSON job, ``argv[2]`` the result file."""
    job, out = json.loads(sys.argv[1]), Path(sys.argv[2])
    try:
        JOBS[job["kind"]](job, out)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        prior = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
        prior["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000],
                          "traceback": traceback.format_exc()[-4000:]}
        _write(out, prior)
        raise SystemExit(3) from None


# ---------------------------------------------------------------- running a child


class ChildFailed(RuntimeError):
    """A child process failed: ``info`` holds its error (type, message, traceback) and what it measured."""

    def __init__(self, what: str, info: dict[str, Any]):
        err = info.get("error") or {}
        super().__init__(f"{what}: {err.get('type', '?')}: {err.get('message', '')}")
        self.info = info

    @property
    def not_ready(self) -> bool:
        return (self.info.get("error") or {}).get("type") in NOT_READY


def run_child(job: dict[str, Any], *, env: dict[str, str], timeout: float, what: str) -> dict[str, Any]:
    """Run ``job`` in a fresh Python process; its result, plus ``wall_s`` and the sampled peak of its tree.

    Raises
    ------
    ChildFailed
        When the child raised (its error inside) or ran past ``timeout`` seconds (then stopped, with
        whatever it had measured).
    """
    from benchmarks import RSSMonitor

    with tempfile.TemporaryDirectory(prefix="opsnb-bench-child-") as tmp:
        out = Path(tmp) / "result.json"
        code = "from benchmarks.warehouse import child; child()"
        log_path = Path(tmp) / "output.log"
        with log_path.open("w") as log_fh:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(job), str(out)], cwd=ROOT, env=env,
                                    stdout=log_fh, stderr=subprocess.STDOUT, start_new_session=True)
            timed_out = False
            with RSSMonitor(pid=proc.pid) as mon:
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _stop_group(proc)
            wall = time.perf_counter() - t0
        res: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
        res["wall_s"] = round(wall, 3)
        res["tree_peak_mb_sampled"] = mon.peak_mb
        res["children_peak_mb_sampled"] = round(mon.peak_children / 2**20, 1)
        if timed_out:
            res["error"] = {"type": "Timeout", "message": f"stopped after {timeout:g} s (the part's time limit)"}
        elif proc.returncode != 0 and "error" not in res:
            tail = log_path.read_text(errors="replace")[-3000:]
            res["error"] = {"type": f"exit {proc.returncode}", "message": tail}
        if "error" in res:
            raise ChildFailed(what, res)
        return res


def _stop_group(proc: subprocess.Popen[Any]) -> None:
    """Stop a child we started and everything it started (its own session: e.g. the JVM)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---------------------------------------------------------------- the warehouses


@contextlib.contextmanager
def _postgres(log: Callable[[str], None]) -> Iterator[Any]:
    """One throwaway PostgreSQL server for the part (database ``bench``, C collation as initdb made it)."""
    from tests.servers import postgres

    with postgres() as server:
        server.sql("CREATE DATABASE bench")
        log(f"  PostgreSQL server on port {server.port} ({server.folder})")
        yield server


def _pg_settings(server: Any) -> dict[str, str]:
    import psycopg

    names = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")
    with psycopg.connect(host="127.0.0.1", port=server.port, user=server.user, password=server.password,
                         dbname="bench") as con:
        return {n: str(con.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


def _url(engine: str, scale: float, *, pg: Any, spark_dir: Path, folder: Path) -> str:
    if engine == "duckdb":
        return str(folder)
    if engine == "postgres":
        return str(pg.url("bench", schema=tag(scale)))
    if engine == "spark":
        return f"spark://local[2]?warehouse={spark_dir}&database={tag(scale)}"
    raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")


def _sum(secs: dict[str, dict[str, Any]], key: str) -> float | int | None:
    vals = [v.get(key) for v in secs.values()]
    if not vals or any(v is None for v in vals):
        return None
    total = sum(vals)
    return round(total, 3) if isinstance(total, float) else total


def _run_summary(r: dict[str, Any]) -> dict[str, Any]:
    """What the table shows of one (engine, scale) run."""
    secs = r.get("sections", {})
    return {
        "sections": secs, "total_s": _sum(secs, "s"), "rows": _sum(secs, "rows"), "queries": _sum(secs, "queries"),
        "query_s": _sum(secs, "query_s"), "materialise_s": _sum(secs, "materialise_s"),
        "imports_s": r.get("imports_s"), "wall_s": r.get("wall_s"),
        "python_peak_mb": r.get("python_peak_mb"), "rss_after_imports_mb": r.get("rss_after_imports_mb"),
        "jvm_peak_mb": (r.get("children") or {}).get("mb"), "children": (r.get("children") or {}).get("processes"),
        "tree_peak_mb_sampled": r.get("tree_peak_mb_sampled"),
    }


def checks(runs: dict[str, dict[str, dict[str, Any]]], scales: Sequence[float],
           sections: Sequence[str] = SECTIONS) -> dict[str, Any]:
    """Rows brought back equal across engines (per scale and section) and independent of scale (per engine);
    the issue's memory goals."""
    out: dict[str, Any] = {"rows_equal_across_engines": {}, "rows_vs_scale": {}, "python_rss_vs_scale": {},
                           "goals": {}}
    for sc in scales:
        key = f"{sc:g}"
        done = {e: r[key] for e, r in runs.items() if key in r and r[key].get("ok")}
        if len(done) < 2:
            continue
        diffs = []
        for sec in sections:
            rows = {e: (r["sections"].get(sec) or {}).get("rows") for e, r in done.items()}
            if len(set(rows.values())) > 1:
                diffs.append({"section": sec, **rows})
        out["rows_equal_across_engines"][key] = {"engines": sorted(done), "equal": not diffs, "differences": diffs}
    if len(scales) >= 2:
        lo, hi = f"{min(scales):g}", f"{max(scales):g}"
        for e, r in runs.items():
            a, b = r.get(lo, {}), r.get(hi, {})
            if not (a.get("ok") and b.get("ok")):
                continue
            ratio = None if not a.get("rows") else round(b["rows"] / a["rows"], 3)
            per = {sec: [(a["sections"].get(sec) or {}).get("rows"), (b["sections"].get(sec) or {}).get("rows")]
                   for sec in sections}
            out["rows_vs_scale"][e] = {"scales": [lo, hi], "rows": [a["rows"], b["rows"]], "ratio": ratio,
                                       "per_section": per,
                                       "independent": ratio is not None and 1 / SCALE_TOLERANCE <= ratio <= SCALE_TOLERANCE}
            pa, pb = a.get("python_peak_mb"), b.get("python_peak_mb")
            pratio = None if not pa or not pb else round(pb / pa, 3)
            out["python_rss_vs_scale"][e] = {"scales": [lo, hi], "python_peak_mb": [pa, pb], "ratio": pratio,
                                             "independent": pratio is not None and pratio <= SCALE_TOLERANCE}
    top = f"{max(scales):g}"
    for e in ("postgres", "spark"):
        r = runs.get(e, {}).get(top)
        if r and r.get("ok"):
            ind = out["python_rss_vs_scale"].get(e, {}).get("independent")
            rows_ind = out["rows_vs_scale"].get(e, {}).get("independent")
            out["goals"][e] = {"scale": top, "python_peak_mb": r["python_peak_mb"],
                               "under_1gb": r["python_peak_mb"] is not None and r["python_peak_mb"] < PY_RSS_GOAL_MB,
                               "rss_independent_of_scale": ind, "rows_independent_of_scale": rows_ind}
    return out


def bench_warehouse(scales: Sequence[float], engines: Sequence[str] = ENGINES, *, work: Path = WORK,
                    timeout: float = 1800.0, decision: bool = True, sections: Sequence[str] = SECTIONS,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """(f) The five sections per engine and scale, each run in a fresh process; loads timed; rows checked.

    ``engines``: any of :data:`ENGINES`. DuckDB reads the pack folder with its store (built first in a
    fresh process with an empty cache: its "load"); PostgreSQL one throwaway server for the part, each
    scale loaded into schema ``s<scale>`` of database ``bench``; Spark each scale loaded into database
    ``s<scale>`` of a temporary local warehouse folder. An engine whose module is not there yet is
    skipped with the reason; any other failure is recorded under ``errors`` (``ok`` False).
    ``decision``: on PostgreSQL at the smallest scale, the sections once more with ``user_days``
    computed inside every query that reads it instead of a temporary table (see the README).
    ``timeout``: seconds each child may run. ``sections``: a subset of :data:`SECTIONS` (the harness's test).
    """
    from benchmarks import _settings, pack_for, review_period
    from tests.servers import PG_PASSWORD

    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engines {unknown}; known: {', '.join(ENGINES)}")
    tz = _settings().timezone
    folders = {sc: pack_for(sc, work=work, log=log) for sc in scales}
    res: dict[str, Any] = {"scales": list(scales), "engines": list(engines), "loads": {}, "runs": {}, "skipped": {},
                           "errors": {}}
    work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="warehouse-", dir=work))
    cache, spark_dir = scratch / "cache", scratch / "spark-warehouse"
    cache.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPSNB_CACHE": str(cache), "PGPASSWORD": PG_PASSWORD,
           "MPLBACKEND": "Agg", "OPSNB_HOME": str(ROOT)}
    try:
        with contextlib.ExitStack() as stack:
            pg = stack.enter_context(_postgres(log)) if "postgres" in engines else None
            if pg is not None:
                res["postgres_settings"] = _pg_settings(pg)
            for engine in engines:
                res["loads"][engine], res["runs"][engine] = {}, {}
                for sc in scales:
                    key, folder = f"{sc:g}", folders[sc]
                    if engine in res["skipped"]:
                        break
                    url = _url(engine, sc, pg=pg, spark_dir=spark_dir, folder=folder)
                    shown_url = url if engine == "duckdb" else url.replace(str(spark_dir), "<tmp>")
                    try:
                        ld = run_child({"kind": "load", "folder": str(folder), "url": "" if engine == "duckdb" else url,
                                        "tz": tz}, env=env, timeout=timeout, what=f"load {engine}@{key}")
                        res["loads"][engine][key] = {k: ld.get(k) for k in ("s", "wall_s", "rows", "python_peak_mb")}
                        log(f"  {engine} scale {key}: {'store built' if engine == 'duckdb' else 'loaded'} in "
                            f"{ld['s']:.1f} s ({sum(ld['rows'].values()):,} rows)")
                        r = run_child({"kind": "sections", "pack": url, "shown": shown_url, "sections": list(sections),
                                       "period": review_period(folder)},
                                      env=env, timeout=timeout, what=f"sections {engine}@{key}")
                    except ChildFailed as exc:
                        err = exc.info.get("error") or {}
                        if exc.not_ready:
                            res["skipped"][engine] = f"the {engine} engine is not ready: {err.get('type')}: " \
                                                     f"{err.get('message', '')[:300]}"
                            log(f"  {engine}: skipped ({res['skipped'][engine]})")
                            break
                        res["errors"][f"{engine}@{key}"] = err
                        partial = _run_summary(exc.info)
                        partial["ok"] = False
                        res["runs"][engine][key] = partial
                        log(f"  {engine} scale {key}: FAILED {err.get('type')}: {err.get('message', '')[:500]}")
                        if err.get("traceback"):
                            log(err["traceback"])
                        continue
                    s = _run_summary(r)
                    s["ok"] = True
                    res["runs"][engine][key] = s
                    log(f"  {engine} scale {key}: sections {s['total_s']:.1f} s ("
                        + ", ".join(f"{k} {v['s']:.1f}" for k, v in s["sections"].items())
                        + f"), {s['queries']} queries in {s['query_s']:.1f} s, {s['rows']:,} rows back, "
                        f"derived tables {s['materialise_s']:.1f} s, Python peak {s['python_peak_mb']:.0f} MB"
                        + (f", JVM peak {s['jvm_peak_mb']:.0f} MB" if s.get("jvm_peak_mb") else ""))
            if decision and pg is not None and "postgres" in res["runs"]:
                res["decision"] = _decision(res, min(scales), folders, pg, env, timeout, log, sections)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    res.update(checks(res["runs"], scales, sections))
    res["ok"] = not res["errors"]
    return res


def _decision(res: dict[str, Any], scale: float, folders: dict[float, Path], pg: Any, env: dict[str, str],
              timeout: float, log: Callable[[str], None], sections: Sequence[str] = SECTIONS) -> dict[str, Any]:
    """``user_days`` as a temporary table built once per notebook vs. computed inside every query reading it."""
    from benchmarks import review_period

    key = f"{scale:g}"
    temp = res["runs"]["postgres"].get(key)
    if not temp or not temp.get("ok"):
        return {"skipped": f"no PostgreSQL run at scale {key}"}
    url = str(pg.url("bench", schema=tag(scale)))
    try:
        inline = _run_summary(run_child({"kind": "sections", "pack": url, "shown": url, "inline_derived": True,
                                         "sections": list(sections),
                                         "period": review_period(folders[scale])},
                                        env=env, timeout=timeout, what=f"inline user_days postgres@{key}"))
    except ChildFailed as exc:
        err = exc.info.get("error") or {}
        res["errors"][f"decision@{key}"] = err
        return {"error": err}
    per = {}
    for sec in sections:
        a, b = temp["sections"][sec], inline["sections"][sec]
        per[sec] = {"temp_build_s": a["materialise_s"], "queries": a["queries"],
                    "queries_reading_user_days": a["derived_queries"],
                    "temp_queries_reading_user_days_s": a["derived_query_s"], "temp_query_s": a["query_s"],
                    "inline_query_s": b["query_s"], "temp_section_s": a["s"], "inline_section_s": b["s"]}
    tot = {k: round(sum(p[k] or 0 for p in per.values()), 3) for k in next(iter(per.values()))}
    out = {"engine": "postgres", "scale": key, "per_section": per, "total": tot,
           "temp_total_s": round(tot["temp_build_s"] + tot["temp_query_s"], 3),
           "inline_total_s": tot["inline_query_s"]}
    log(f"  user_days on PostgreSQL at scale {key}: temp tables built {tot['temp_build_s']:.2f} s in all "
        f"(once per notebook that reads it) + queries {tot['temp_query_s']:.2f} s "
        f"({tot['queries_reading_user_days']} of {tot['queries']} read user_days: "
        f"{tot['temp_queries_reading_user_days_s']:.2f} s); computed in every query instead: queries "
        f"{tot['inline_query_s']:.2f} s")
    return out


# ---------------------------------------------------------------- (g) the DuckDB batch at scale 30


class TreeMonitor:
    """Peak RSS of a process tree (sampled every ``interval`` s) and, at that peak, each process's share.

    ``breakdown``: at the sample with the largest sum, each process's kind (``opsnb`` for the run
    itself, ``kernel``, or its name), RSS and PSS (shared pages divided among the processes sharing
    them: the sum of PSS is what the tree really occupies).
    """

    def __init__(self, pid: int, interval: float = 0.2):
        import threading

        import psutil

        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.breakdown: list[dict[str, Any]] = []
        self._kinds: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _kind(self, p: Any) -> str:
        if p.pid not in self._kinds:
            try:
                cmd = " ".join(p.cmdline())
            except Exception:  # noqa: BLE001 - exited meanwhile
                cmd = ""
            self._kinds[p.pid] = ("opsnb run" if p.pid == self.proc.pid else "kernel" if "ipykernel" in cmd
                                  else (cmd.split() or ["?"])[0].rsplit("/", 1)[-1])
        return self._kinds[p.pid]

    def sample(self) -> None:
        import psutil

        procs = [self.proc]
        with contextlib.suppress(psutil.Error):
            procs += self.proc.children(recursive=True)
        rows = []
        for p in procs:
            try:
                rows.append((p, p.memory_info().rss))
            except psutil.Error:
                continue
        total = sum(r for _, r in rows)
        if total > self.peak:
            self.peak = total
            detail = []
            for p, rss in rows:
                try:
                    pss = p.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    pss = None
                detail.append({"pid": p.pid, "kind": self._kind(p), "rss_mb": round(rss / 2**20),
                               "pss_mb": None if pss is None else round(pss / 2**20)})
            self.breakdown = detail

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMonitor:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_duckdb30(scale: float = 30.0, *, work: Path = WORK, cold: bool = True, timeout: float = 3600.0,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """(g) ``opsnb run --force`` on DuckDB at ``scale`` as a subprocess; wall time and peak RSS of its tree.

    ``cold``: first with an empty cache (the pack's store built inside the run: the first run after
    new data), then again with the store in place (every later run). The RSS is sampled every 0.2 s
    over the run's process tree (the ``opsnb`` process, its kernels and their children), without
    this harness process.
    """
    from benchmarks import pack_for, project

    folder = pack_for(scale, work=work, log=log)
    meta = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {"scale": scale, "pack": str(folder), "events": meta.get("row_counts", {}).get("events"),
                           "goal_gb": BATCH_RSS_GOAL_GB, "runs": {}}
    cache = Path(tempfile.mkdtemp(prefix="duckdb30-cache-", dir=work))
    opsnb = Path(sys.executable).parent / "opsnb"
    cmd = [str(opsnb) if opsnb.exists() else sys.executable, *([] if opsnb.exists() else ["-m", "opsnb.cli"]),
           "run", "--pack", str(folder), "--force", "--quiet"]
    try:
        with project(work) as root:
            env = {**os.environ, "OPSNB_HOME": str(root), "OPSNB_CACHE": str(cache), "MPLBACKEND": "Agg"}
            for kind in (("cold", "warm") if cold else ("warm",)):
                if kind == "warm" and not any(cache.glob("store-*.duckdb")):
                    log("  (building the store first, untimed)")
                    subprocess.run([sys.executable, "-c", "from benchmarks.warehouse import child; child()",
                                    json.dumps({"kind": "load", "folder": str(folder), "url": "",
                                                "tz": _tz()}), str(cache / "store.json")],
                                   cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True)
                log_path = cache / f"run-{kind}.log"
                with log_path.open("w") as fh:
                    t0 = time.perf_counter()
                    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                            start_new_session=True)
                    load0 = os.getloadavg()[0]
                    with TreeMonitor(proc.pid) as mon:
                        try:
                            proc.wait(timeout=timeout)
                        except subprocess.TimeoutExpired:
                            _stop_group(proc)
                    dt = time.perf_counter() - t0
                text = log_path.read_text(errors="replace")
                peak_gb = round(mon.peak / 2**30, 2)
                r = {"wall_s": round(dt, 1), "rss_peak_gb": peak_gb, "ok": proc.returncode == 0,
                     "within_goal": proc.returncode == 0 and peak_gb <= BATCH_RSS_GOAL_GB,
                     "returncode": proc.returncode, "stores_built": len(list(cache.glob("store-*.duckdb"))),
                     "at_peak": mon.breakdown,
                     "pss_at_peak_gb": round(sum(b["pss_mb"] or 0 for b in mon.breakdown) / 1024, 2),
                     "loadavg_1min": [round(load0, 1), round(os.getloadavg()[0], 1)]}
                if proc.returncode != 0:
                    r["output_tail"] = text[-3000:]
                sections = _manifest_sections(root)
                if sections:
                    r["sections_s"] = sections
                out["runs"][kind] = r
                log(f"  DuckDB batch at scale {scale:g} ({kind}{', store built in the run' if kind == 'cold' else ''}): "
                    f"{dt:.1f} s, peak RSS {peak_gb:.2f} GB (goal {BATCH_RSS_GOAL_GB:g} GB: "
                    f"{'met' if r['within_goal'] else 'NOT met'}); at the peak: "
                    + ", ".join(f"{b['kind']} {b['rss_mb']} MB" for b in r["at_peak"])
                    + f" (PSS {r['pss_at_peak_gb']:.2f} GB)" + ("" if r["ok"] else f" — FAILED:\n{text[-1500:]}"))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    out["ok"] = all(r["ok"] for r in out["runs"].values())
    out["within_goal"] = all(r["within_goal"] for r in out["runs"].values())
    return out


def _tz() -> str:
    from benchmarks import _settings

    return str(_settings().timezone)


def _manifest_sections(root: Path) -> dict[str, float]:
    """Per-section seconds from the newest run manifest under ``root/outputs``."""
    manifests = sorted((root / "outputs").rglob("manifest.json"), key=lambda p: p.stat().st_mtime)
    if not manifests:
        return {}
    try:
        data = json.loads(manifests[-1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    secs = data.get("sections") or {}
    out = {}
    items = secs.items() if isinstance(secs, dict) else ((s.get("section"), s) for s in secs if isinstance(s, dict))
    for name, s in items:
        d = s.get("duration_s") if isinstance(s, dict) else None
        if name and d is not None:
            out[str(name)] = round(float(d), 1)
    return out
