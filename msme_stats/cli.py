"""Command line interface: ``msme-stats``.

Subcommands
-----------
build [--data DIR] [--out DIR] [--only ID ...] [--param KEY=VALUE ...] [--quiet] [--wait S]
    Regenerate the registered figures and tables atomically (:func:`msme_stats.build.build`);
    a short summary of what the build did to the data (recodes, exclusions, flags) goes to
    stderr (``--quiet`` silences it and the progress bar; the manifest keeps it all).
build --recover [--out DIR]
    Complete or undo the commit of a build that was killed (:func:`msme_stats.build.recover`).
list
    Registered outputs: id, kind, title.
indicators [--family es|tec]
    The indicator registry (:func:`msme_stats.indicators.list_indicators`).
make-samples [--out DIR]
    Write the synthetic sample data sets (WBES, and TEC when available).
inspect FILE|DIR ... [--csv FILE]
    One line per WBES file before any build (:func:`msme_stats.inspect_wbes`); exit status 1
    when a file cannot be used.
replicate FILE|DIR ... [--csv FILE]
    Published official indicators beside the recomputed values
    (:func:`msme_stats.replicate_published`).

Global options: ``--version``, ``--debug`` (show tracebacks). Every failure is printed as
one line ``msme-stats: error: ...`` naming the file and what to do, with exit status 1;
usage errors (unknown option, bad option value: :class:`~msme_stats.errors.OptionError`)
exit with status 2. SIGINT exits with 130 and SIGTERM with 143, the output folder left as
it was.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .errors import MsmeStatsError, OptionError

PROG = "msme-stats"


def _version() -> str:
    from . import __version__

    return __version__


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise OptionError(f"--param {text!r}: use KEY=VALUE (VALUE is read as JSON, else as text).")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


class _InspectLine(NamedTuple):
    """The columns of :func:`~msme_stats.replicate.inspect_wbes` that ``inspect`` prints
    (text or counts; missing on a file that cannot be used)."""

    file: object
    usable: bool
    error: object
    survey_id: object
    country: object
    country_source: object
    year: object
    year_source: object
    firms: object
    strata: object
    single_firm_strata: object
    weights: object
    sectors: object
    interview_years: object
    sector_labels: object
    recoded: object
    odd: object


class _ReplicateLine(NamedTuple):
    """The columns of :func:`~msme_stats.replicate.replicate_published` that ``replicate`` prints."""

    survey_id: str
    wb_code: str
    published: float  # NaN when not published
    decimals: float | None  # of the published value; None or NaN when unknown
    recomputed: float  # NaN when not computable
    status: str


# --------------------------------------------------------------------------- commands
def _cmd_build(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # the CLI never needs a window
    from .build import build, recover, report_summary

    if args.wait < 0:
        raise OptionError(f"--wait {args.wait}: give a number of seconds >= 0.")
    if args.recover:
        if args.data or args.only or args.param:
            raise OptionError("--recover takes only --out (and --wait); run the build separately.")
        done = recover(args.out, lock_timeout=args.wait)
        print({None: f"{args.out}: nothing to recover",
               "removed": f"{args.out}: removed the work folder of an unfinished build "
                          "(the output folder was not touched)",
               "forward": f"{args.out}: completed the interrupted commit (new files in place)",
               "back": f"{args.out}: undid the interrupted commit (old files in place)"}[done])
        return 0
    params = dict(_parse_param(p) for p in args.param or [])
    if args.surveys:
        if not Path(args.surveys).is_file():
            raise OptionError(f"--surveys {args.surveys}: no such file; give a CSV with columns file,iso3,year.")
        params["wbes_surveys"] = str(Path(args.surveys).resolve())
    manifest = build(
        data_dir=args.data,
        out_dir=args.out,
        only=args.only,
        params=params,
        progress=not args.quiet,
        lock_timeout=args.wait,
    )
    if not args.quiet:
        for line in report_summary(manifest):
            print(line, file=sys.stderr)
        n_files = sum(len(o["files"]) for o in manifest.outputs if o["id"] in manifest.built)
        print(f"built {len(manifest.built)} output(s), {n_files} file(s); manifest: {manifest.path}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .build import registered_outputs

    outputs = registered_outputs()
    if not outputs:
        print("no outputs registered (output modules: msme_stats/outputs/)")
        return 0
    print(_table([(o.id, o.kind, o.title) for o in outputs], ("id", "kind", "title")))
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    from .indicators import list_indicators

    table = list_indicators(args.family) if args.family else list_indicators()
    cols = [c for c in ("id", "family", "unit", "wb_code", "name") if c in table.columns]
    if table.empty:
        print("no indicators registered")
        return 0
    rows = [[("" if v is None else str(v)) for v in rec] for rec in table[cols].itertuples(index=False)]
    print(_table(rows, cols))
    return 0


def _cmd_make_samples(args: argparse.Namespace) -> int:
    from .samples.tec import write_tec_samples
    from .samples.wbes import write_wbes_samples

    out = Path(args.out)
    for label, writer, sub in (("WBES", write_wbes_samples, "wbes_synthetic"),
                               ("TEC", write_tec_samples, "tec_samples")):
        target = out / sub
        written = writer(target)
        print(f"{label} samples: {len(written)} file(s) in {target}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .replicate import inspect_wbes

    table = inspect_wbes(args.paths)
    if args.csv:
        from ._atomic import atomic_write_text

        atomic_write_text(args.csv, table.to_csv(index=False))
    for r in (_InspectLine(*t) for t in table[list(_InspectLine._fields)].itertuples(index=False, name=None)):
        name = Path(str(r.file)).name
        if not r.usable:
            print(f"UNUSABLE  {name}: {r.error}")
            continue
        parts = [
            f"{r.survey_id} (country {r.country} from {r.country_source}; year {r.year} from {r.year_source})",
            f"{r.firms} firms",
            f"{r.strata} strata ({r.single_firm_strata} single-firm)",
            f"weights {r.weights or 'NONE'}",
            f"sectors {r.sectors}",
        ]
        if r.interview_years:
            parts.append(f"interviews {r.interview_years}")
        if r.sector_labels:
            parts.append(f"a4a {r.sector_labels}")
        parts.append(f"recoded {r.recoded or 'nothing'}")
        if r.odd:
            parts.append(f"odd: {r.odd}")
        print(f"OK        {name}: " + "; ".join(parts))
    bad = int((~table["usable"].astype(bool)).sum())
    if bad:
        print(f"{PROG} inspect: {bad} of {len(table)} file(s) cannot be used", file=sys.stderr)
        return 1
    return 0


def _cmd_replicate(args: argparse.Namespace) -> int:
    import warnings

    from .replicate import replicate_published
    from .sources.wbes import load_wbes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        firms = load_wbes(args.paths if len(args.paths) > 1 else args.paths[0])
    table = replicate_published(firms)
    if args.csv:
        from ._atomic import atomic_write_text

        atomic_write_text(args.csv, table.to_csv(index=False))
    rows: list[tuple[str, str, str, str, str]] = []
    for r in (_ReplicateLine(*t) for t in table[list(_ReplicateLine._fields)].itertuples(index=False, name=None)):
        dec = 1 if r.decimals is None or r.decimals != r.decimals else int(r.decimals)
        rows.append((r.survey_id, r.wb_code, "" if r.published != r.published else f"{r.published:.{dec}f}",
                     "" if r.recomputed != r.recomputed else f"{r.recomputed:.{dec + 2}f}", r.status))
    print(_table(rows, ("survey", "indicator", "published", "recomputed", "status")))
    if any(s.startswith("differs") for s in table["status"]):
        print(f"{PROG} replicate: {int(table['status'].str.startswith('differs').sum())} published value(s) not matched",
              file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- parser
def make_parser() -> argparse.ArgumentParser:
    """The argument parser of ``msme-stats``: global options and one subparser per command.

    Each subcommand sets ``func`` (the function :func:`main` calls with the parsed
    arguments); the options are listed in this module's docstring and by ``msme-stats
    COMMAND --help``.

    Returns
    -------
    argparse.ArgumentParser
        A new parser (``prog="msme-stats"``).

    Raises
    ------
    None
        Building the parser does not raise; its ``parse_args`` raises :class:`SystemExit`
        (status 2) on a usage error and (status 0) after ``--help``/``--version``.

    Examples
    --------
    >>> from msme_stats.cli import make_parser
    >>> args = make_parser().parse_args(["build", "--only", "wbes_headline_sme_vs_large", "--quiet"])
    >>> args.command, args.only, args.out, args.quiet, args.wait
    ('build', ['wbes_headline_sme_vs_large'], 'figures', True, 0.0)
    >>> make_parser().parse_args(["indicators", "--family", "tec"]).family
    'tec'
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Recompute World Trade Report 2016-style statistics on SMEs in trade.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("build", help="regenerate the registered figures and tables")
    p.add_argument("--data", metavar="DIR", help="data directory (default: $MSME_STATS_DATA_DIR)")
    p.add_argument("--out", metavar="DIR", default="figures", help="output directory (default: figures)")
    p.add_argument("--only", metavar="ID", nargs="+", help="build only these output ids")
    p.add_argument("--param", metavar="KEY=VALUE", action="append",
                   help="build parameter (VALUE read as JSON, else text); repeatable")
    p.add_argument("--surveys", metavar="FILE.csv",
                   help="per-file survey overrides for DIR/wbes/ (CSV columns file,iso3,year)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar and no summary of recodes/exclusions (the manifest keeps them)")
    p.add_argument("--wait", metavar="SECONDS", type=float, default=0.0,
                   help="wait this long for another build of the same --out to finish (default: 0)")
    p.add_argument("--recover", action="store_true",
                   help="only complete or undo the commit of a killed build in --out")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("list", help="list the registered outputs (id, kind, title)")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("indicators", help="list the indicator registry")
    p.add_argument("--family", choices=("es", "tec", "edd"), help="only this family")
    p.set_defaults(func=_cmd_indicators)

    p = sub.add_parser("make-samples", help="write the synthetic sample data sets")
    p.add_argument("--out", metavar="DIR", default="data", help="output directory (default: data)")
    p.set_defaults(func=_cmd_make_samples)

    p = sub.add_parser("inspect", help="one line per WBES file: survey detected, firms, strata, oddities")
    p.add_argument("paths", metavar="FILE|DIR", nargs="+", help="WBES files, folders or globs")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("replicate", help="published official indicators beside recomputed values")
    p.add_argument("paths", metavar="FILE|DIR", nargs="+", help="WBES files, folders or globs")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.set_defaults(func=_cmd_replicate)
    return parser


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _os_error_line(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    if exc.filename2:
        where += f" -> {exc.filename2}"
    return (f"{exc.strerror or type(exc).__name__}:{where}; check the path, its permissions and "
            "the free space (rerun with --debug for details)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``msme-stats`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Exit status: 0 success, 1 any failure (one line on stderr naming the file and what to
    do), 2 usage error, 130 SIGINT, 143 SIGTERM. ``--debug`` shows the traceback instead.

    Parameters
    ----------
    argv
        The command line without the program name, e.g. ``["build", "--out", "figs"]``;
        None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status above (the ``msme-stats`` script passes it to :func:`sys.exit`).

    Raises
    ------
    SystemExit
        From :mod:`argparse`: status 0 after ``--help`` or ``--version``, status 2 for an
        unknown command or option (with the usage on stderr).
    MsmeStatsError
        Only with ``--debug``: every error (an :class:`~msme_stats.errors.MsmeStatsError`
        subclass, :class:`OSError`, :class:`KeyboardInterrupt`, or a bug) propagates with its
        traceback instead of becoming one line on stderr and an exit status.

    Examples
    --------
    >>> from msme_stats.cli import main
    >>> from msme_stats._paths import data_dir
    >>> main(["inspect", str(data_dir() / "wbes_synthetic" / "KEN_2013_synthetic.dta")])
    OK        KEN_2013_synthetic.dta: KEN_2013 (country KEN from country variable; ...); 420 firms; 45 strata (4 single-firm); ...
    0
    >>> main(["build", "--wait", "-1"])  # a bad option value: one line on stderr, status 2
    2
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format=f"{PROG}: %(levelname)s: %(message)s",
    )
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except OptionError as exc:  # a bad option value: a usage error
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MsmeStatsError as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `msme-stats indicators | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        signum = getattr(exc, "signum", 2)
        name = {2: "SIGINT", 15: "SIGTERM"}.get(signum, f"signal {signum}")
        note = ""
        if args.command == "build":
            note = ("; the build had completed: the output folder holds the new files"
                    if getattr(exc, "completed", False) else "; the output folder was left as it was")
        print(f"{PROG}: interrupted ({name}){note}", file=sys.stderr)
        return 128 + signum
    except OSError as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(_os_error_line(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {_one_line(exc)} (this is a bug "
              "in msme-stats: rerun with --debug and report the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
