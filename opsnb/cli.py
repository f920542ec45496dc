"""The ``opsnb`` command: thin argument parsing over batch, sample and validate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opsnb.errors import LockedError, OpsnbError, PackError, ParamsError, Problem
from opsnb.pack.url import redact


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opsnb", description="Operations review workbook (运营复盘).")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run a period: validate, execute sections in parallel, export, publish")
    r.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY, or last-month, last-quarter, last-year, this-month, "
                                    "this-quarter, this-year (in the unit's timezone, now; $OPSNB_NOW overrides now; "
                                    "default: the pack's latest full month)")
    r.add_argument("--unit", help="business unit: params/<unit>.yaml (default: sample)")
    r.add_argument("--units", help="many units in one run: all (every params/<unit>.yaml) or east,south; "
                                   "each publishes on its own, then the group roll-up (outputs/_group/<period>)")
    r.add_argument("--scheduler", default="local",
                   help="with --units: local (one shared pool of kernels, default), dask (a LocalCluster), "
                        "or tcp://host:8786 (an existing Dask cluster)")
    r.add_argument("--pack", help="data pack: folder, .duckdb file, or warehouse URL (postgres://user@host:port/db"
                                  "?schema=ops, spark://local[2]?warehouse=DIR&database=ops; default: from params)")
    r.add_argument("--sections", help="comma-separated: goals,campaigns,insights,problems,plan")
    r.add_argument("--lang", choices=["zh", "en"], help="report language (default zh)")
    r.add_argument("--workers", type=int, help="sections executed in parallel")
    r.add_argument("--params-file", help="extra YAML settings layered on top")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting, repeatable")
    r.add_argument("--no-wait", action="store_true", help="fail fast if another run holds the output")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--force", action="store_true", help="execute every section even if its inputs are unchanged")

    s = sub.add_parser("sample", help="write the deterministic sample pack")
    s.add_argument("--out", help="folder (default data/sample; with --units data/sample_units)")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--scale", type=float, help="size (default 1.0; with --units 0.1 per unit)")
    s.add_argument("--units", type=int, help="a multi-unit sample: one pack shared by N branches (2-36), with "
                                             "params/<unit>.yaml for each, for `opsnb run --units all`")

    v = sub.add_parser("validate", help="check a pack (and params) and print every problem; runs nothing")
    v.add_argument("pack", nargs="?", help="folder, .duckdb file or warehouse URL (checked in the warehouse: nothing "
                                           "is copied; default: the unit's pack setting, in the workbook)")
    v.add_argument("--unit")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    ld = sub.add_parser("load", help="copy a pack folder into a warehouse (PostgreSQL schema or Spark tables)")
    ld.add_argument("pack", help="pack folder or .duckdb file, e.g. data/sample")
    ld.add_argument("url", help="postgres://user@host:port/db?schema=ops, spark://local[2]?warehouse=DIR&database=ops "
                                "or sc://host:15002?database=ops (Spark Connect)")
    ld.add_argument("--unit", help="the unit whose time zone reads the pack (default: params/default.yaml)")

    e = sub.add_parser("export", help="render a published review as PDF (one file, summary first) and/or long PNGs")
    e.add_argument("--unit", help="business unit (default: from params)")
    e.add_argument("--period", help="the published period: YYYY-MM, YYYY-Qn, YYYY or last-month … "
                                     "(in the unit's timezone; default: the newest one published for the unit)")
    e.add_argument("--pdf", action="store_true", help="review.pdf (every page, summary first) and one PDF per page")
    e.add_argument("--png", action="store_true", help="one long image (长图) per page")
    e.add_argument("--lang", choices=["zh", "en"], help="the review in this language (default: the unit's own)")

    n = sub.add_parser("notify", help="send (or preview) a published review's card and alerts without rerunning")
    n.add_argument("--unit", help="business unit (default: from params)")
    n.add_argument("--period", help="the published period: YYYY-MM, YYYY-Qn, YYYY or last-month … "
                                     "(in the unit's timezone; default: the newest one published for the unit)")
    n.add_argument("--dry-run", action="store_true", help="print the messages and where they would go; send nothing")
    n.add_argument("--resend", action="store_true", help="send the card and alerts again even if already delivered")
    n.add_argument("--lang", choices=["zh", "en"], help="the review in this language (default: the unit's own)")
    n.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    c = sub.add_parser("check", help="check every published review: pages, links, facts, the archive (exit 1 on "
                                     "a problem)")
    c.add_argument("outputs", nargs="?", help="the outputs folder (default: the project's outputs/)")

    i = sub.add_parser("import", help="turn a known export into a pack")
    i.add_argument("kind", choices=["online-retail"])
    i.add_argument("path")
    i.add_argument("--out", required=True)

    w = sub.add_parser("init", help="make a team's workbook in DIR: params, notebooks, README, .gitignore; with --from, "
                                    "the exports copied into DIR/data with a proposed pack.yaml (docs/onboarding.md)")
    w.add_argument("dir", help="a new or empty folder")
    w.add_argument("--from", dest="exports", metavar="EXPORTS", help="a folder of the team's exports (CSV/TSV/XLSX)")
    w.add_argument("--lang", choices=["zh", "en"], default="zh", help="the workbook's language (default zh)")
    w.add_argument("--unit", help="the business unit's name (default: DIR's name, if it is a valid one)")

    m = sub.add_parser("map", help="propose pack.yaml for a folder of exports: which file is which table, which column "
                                   "which contract column, with evidence; then validate with it")
    m.add_argument("exports", help="a folder of exports (CSV/TSV/XLSX/Parquet; every sheet is read)")
    m.add_argument("--out", help="where to write the proposal (default EXPORTS/pack.yaml; never over a file)")
    m.add_argument("--print", dest="print_only", action="store_true", help="print the proposal; write nothing")
    m.add_argument("--lang", choices=["zh", "en"], help="language of the report (default: the workbook's)")
    m.add_argument("--unit", help="the unit whose time zone and KPIs read the exports (default: params)")

    g = sub.add_parser("upgrade", help="bring the workbook's generated notebooks and default params to this opsnb; "
                                       "files the team edited are left alone")
    g.add_argument("--check", action="store_true", help="show what would change (a diff per file); write nothing; "
                                                        "exit 1 when something would")
    return p


#: Commands that work inside a workbook (found from the current folder upward, or $OPSNB_HOME).
IN_WORKBOOK = ("run", "export", "notify", "upgrade")


def _map(args: argparse.Namespace) -> int:
    """``opsnb map EXPORTS``: the proposal with its evidence, written (or printed), and its validation."""
    from opsnb.onboard import map_exports
    from opsnb.pack.config import CONFIG_NAME
    from opsnb.params import load_params

    settings = load_params(unit=args.unit)
    lang = args.lang or settings.lang
    folder = Path(args.exports)
    out = None if args.print_only else Path(args.out) if args.out else folder / CONFIG_NAME
    try:
        res = map_exports(folder, tz=settings.timezone, lang=lang, kpi_keys=tuple(k.key for k in settings.goals.kpis),
                          out=out)
    except (FileExistsError, NotADirectoryError) as exc:
        print(f"opsnb: {exc}", file=sys.stderr)
        return 2
    print(res.text(lang, folder=args.exports))
    if args.print_only:
        print("\n" + res.yaml)
    return 2 if res.errors else 0


def _upgrade(args: argparse.Namespace) -> int:
    """``opsnb upgrade [--check]``: what a new opsnb changes in the generated files; applied to unedited ones."""
    from opsnb import workbook
    from opsnb.params import load_params
    from opsnb.paths import require_workbook
    from opsnb.workbook.upgrade import text

    root = require_workbook()
    lang = load_params(root=root).lang
    if args.check:
        _, files = workbook.plan(root, lang)
        print(text(files, lang, check=True))
        return 1 if workbook.pending(files) else 0
    print(text(workbook.apply(root, lang), lang, check=False))
    return 0


def _sample_units(args: argparse.Namespace) -> int:
    """``opsnb sample --units N``: the shared pack, a params file per unit, and what was planted where."""
    from opsnb.paths import project_root
    from opsnb.sample import generate_units

    out = Path(args.out or "data/sample_units")
    try:
        scenario = generate_units(out, units=args.units, seed=args.seed, scale=args.scale or 0.1,
                                  params_dir=project_root() / "params")
    except (FileExistsError, ValueError) as exc:
        print(f"opsnb: {exc}", file=sys.stderr)
        return 2
    for line in scenario.get("params", []):
        print(f"  {line}", file=sys.stderr)
    for fact in scenario.get("planted", []):
        print(f"  planted: {fact.get('unit')} ({fact.get('label', '')}): {fact.get('kind')}", file=sys.stderr)
    print(f"{out}: {args.units} units (scenario.json lists the planted facts); run them: opsnb run --units all")
    return 0


def _run_units(args: argparse.Namespace) -> int:
    """``opsnb run --units …``: every unit on one scheduler, a status line per unit, then the roll-up."""
    from opsnb.units import run_units

    if args.unit or args.pack:
        print("opsnb: --units runs each unit with its own params/<unit>.yaml (and pack); drop --unit/--pack",
              file=sys.stderr)
        return 2
    res = run_units(args.units, period=args.period, scheduler=args.scheduler, workers=args.workers, lang=args.lang,
                    sections=args.sections.split(",") if args.sections else None, overrides=args.set,
                    progress=not args.quiet, force=args.force)
    width = max([len(u) for u in [*(x.unit for x in res.units), *res.left_out]] or [1])
    for unit, why in res.left_out.items():
        print(f"  {unit:<{width}} {'left out':<7}          {redact(why)}", file=sys.stderr)
    for u in res.units:
        where = str(u.result.index) if u.result is not None and u.result.ok else ""
        line = f"  {u.unit:<{width}} {u.status:<7} {u.duration_s:6.1f}s  {where}"
        if u.error:
            line += f"  {redact(u.error)}"
        print(line, file=sys.stderr)
    n_ok = sum(u.ok for u in res.units)
    print(f"{'ok' if res.ok else 'FAILED'}: {n_ok} of {len(res.units)} units in {res.duration_s:.1f}s "
          f"({res.scheduler})", file=sys.stderr)
    if res.rollup is not None:  # (a roll-up that failed was logged by run_units)
        print(res.rollup)
    delivered = all([_deliver(u.result.out_dir, overrides=args.set) for u in res.units
                     if u.result is not None and (u.result.out_dir / "index.html").is_file()])
    return 0 if res.ok and delivered else 1 if not res.ok else DELIVERY_FAILED


#: Exit code of a run whose review was published but whose delivery (a channel) failed; see docs/delivery.md.
DELIVERY_FAILED = 4


def _deliver(review: Path, *, params_file: str | None = None, overrides: list[str] | None = None) -> bool:
    """After a publish: the card and alerts to the unit's channels (``notify:``); False if one failed.

    A delivery failure is reported and leaves the published review as it is.
    """
    from opsnb.notify import notify

    if not (review / "index.html").is_file():
        return True  # nothing was published (the run's own error says why)
    try:
        report = notify(review, params_file=params_file, overrides=overrides,
                        log=lambda m: print(m, file=sys.stderr))
    except OpsnbError as exc:
        print(f"opsnb: delivery: {redact(str(exc))}", file=sys.stderr)
        return False
    for s in report.failed:
        print(f"opsnb: delivery to {s.channel} failed ({s.what}): {s.error}; the review is published; "
              f"resend with `opsnb notify --unit {report.unit} --period {report.period}`", file=sys.stderr)
    return report.ok


def _published(unit: str | None, period: str | None, lang: str | None = None) -> Path:
    """The published review folder of ``unit`` (default: params) and ``period`` (default: the newest).

    ``period`` may be relative (``last-month`` …): resolved in the unit's time zone, as ``opsnb run`` does.
    ``lang``: the review in that language (``2026-10.en``); default: the unit's own.
    """
    from opsnb import runfolder as rf
    from opsnb.params import load_params
    from opsnb.paths import outputs_dir
    from opsnb.periods import resolve_period

    settings = load_params(unit=unit, overrides={"lang": lang} if lang else None)
    name = settings.unit
    base = outputs_dir() / name
    home = load_params(unit=unit).lang
    if period:
        try:
            label = resolve_period(period, settings.timezone).label
        except ValueError as exc:
            raise ParamsError([Problem("--period", str(exc), period)]) from None
        folder = base / rf.published_name(label, settings.lang, home)
        if not (folder / "index.html").is_file():
            raise OpsnbError(f"no published review at {folder}: run `opsnb run --unit {name} --period {label}"
                             + (f" --lang {lang}" if lang else "") + "` first")
        return folder
    links = rf.published(base)
    mine = [base / n for n in links if (rf.parse_published_name(n) or ("", None))[1] == (
        None if settings.lang == home else settings.lang)]
    found = sorted((d for d in mine if (d / "index.html").is_file()), key=lambda d: (d / "index.html").stat().st_mtime)
    if not found:
        raise OpsnbError(f"nothing published for unit {name!r} under {base}: run `opsnb run --unit {name}` first")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 only when everything succeeded)."""
    args = _parser().parse_args(argv)
    try:
        if args.cmd in IN_WORKBOOK or (args.cmd == "check" and not args.outputs):
            from opsnb.paths import require_workbook

            require_workbook()
        if args.cmd == "init":
            from opsnb.workbook import init_workbook

            print(init_workbook(args.dir, exports=args.exports, lang=args.lang, unit=args.unit).text())
            return 0
        if args.cmd == "map":
            return _map(args)
        if args.cmd == "upgrade":
            return _upgrade(args)
        if args.cmd == "run" and args.units:
            return _run_units(args)
        if args.cmd == "run":
            from opsnb import batch

            res = batch.run(period=args.period, unit=args.unit, pack=args.pack, lang=args.lang,
                            sections=args.sections.split(",") if args.sections else None, workers=args.workers,
                            params_file=args.params_file, overrides=args.set, wait=not args.no_wait,
                            progress=not args.quiet, force=args.force)
            for s in res.sections:
                line = f"  {s.section:<10} {s.status:<7} {s.duration_s:6.1f}s"
                if s.error:
                    line += f"  {s.error.splitlines()[0]}" + (f" (cell {s.failing_cell})" if s.failing_cell is not None
                                                              else "")
                print(line, file=sys.stderr)
            print(f"{'ok' if res.ok else 'FAILED'} in {res.duration_s:.1f}s", file=sys.stderr)
            print(res.index)
            delivered = _deliver(res.out_dir, params_file=args.params_file, overrides=args.set)
            return 0 if res.ok and delivered else 1 if not res.ok else DELIVERY_FAILED
        if args.cmd == "sample":
            from opsnb.sample import generate

            if args.units:
                return _sample_units(args)
            generate(Path(args.out or "data/sample"), seed=args.seed, scale=args.scale or 1.0)
            print(args.out or "data/sample")
            return 0
        if args.cmd == "validate":
            from opsnb.pack import validate_pack
            from opsnb.params import load_params
            from opsnb.paths import require_workbook
            from opsnb.runspec import pack_path

            settings = load_params(unit=args.unit, overrides=args.set)
            if args.pack is None:  # the workbook's own pack (a relative pack setting is read from the workbook)
                args.pack = str(pack_path(settings, require_workbook()))
            problems = validate_pack(args.pack, tz=settings.timezone, unit_column=settings.unit_column)
            if problems:
                from opsnb.pack.problems import format_problems, is_error

                print(format_problems(problems, settings.lang))
                if any(is_error(p) for p in problems):
                    return 2
            print(f"{redact(args.pack)}: ok" + (" (with warnings)" if problems else ""))
            return 0
        if args.cmd == "load":
            from opsnb.pack import open_pack
            from opsnb.pack.warehouse import load
            from opsnb.params import load_params

            settings = load_params(unit=args.unit)
            copied = load(open_pack(args.pack, tz=settings.timezone), args.url,
                          log=lambda m: print(f"  {m}", file=sys.stderr))
            print(f"{redact(args.url)}: {len(copied)} tables, {sum(copied.values()):,} rows; "
                  f"run it with: opsnb run --pack '{redact(args.url)}'")
            return 0
        if args.cmd == "export":
            from opsnb.export.pdf import export_review

            review = _published(args.unit, args.period, args.lang)
            for path in export_review(review, pdf=args.pdf or not args.png, png=args.png):
                print(path)
            return 0
        if args.cmd == "notify":
            from opsnb.notify import notify

            sent = notify(_published(args.unit, args.period, args.lang), overrides=args.set, dry_run=args.dry_run,
                          resend=args.resend, log=lambda m: print(m, file=sys.stderr))
            print(sent.text())
            return 0 if sent.ok else DELIVERY_FAILED
        if args.cmd == "check":
            from opsnb.archive import check, reviews
            from opsnb.paths import outputs_dir

            folder = Path(args.outputs) if args.outputs else outputs_dir()
            found = check(folder)
            for line in found:
                print(f"  {line}", file=sys.stderr)
            n = len(reviews(folder))
            print(f"{folder}: {n} published reviews, " + (f"{len(found)} problems" if found else "every one whole"))
            return 1 if found else 0
        if args.cmd == "import":
            from opsnb.importers import online_retail  # type: ignore[import-not-found]

            report = online_retail.import_pack(Path(args.path), Path(args.out))
            print(report)
            return 0
    except (ParamsError, PackError) as exc:
        print(f"opsnb: {redact(str(exc))}", file=sys.stderr)
        return 2
    except LockedError as exc:
        print(f"opsnb: {exc}", file=sys.stderr)
        return 3
    except OpsnbError as exc:
        print(f"opsnb: {redact(str(exc))}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
