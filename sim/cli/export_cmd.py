"""``patrolsim export RESULTS_DIR --format geojson|gpkg``: a run's GIS layers for QGIS or ArcGIS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write a run's GIS layers (beats, grid cells, stations, exits, incidents) in WGS84",
        description="Rebuild the network and beats from RESULTS_DIR/scenario.resolved.yaml and write five layers "
                    "in WGS84 (EPSG:4326): beats (streets as lines, with their owner unit), grid_cells (polygons "
                    "with both lines' compliance overall and per alert level), stations, exits and incidents "
                    "(points with their outcome). GeoJSON: one .geojson file per layer; GeoPackage: one "
                    "patrolsim.gpkg with a table per layer.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR", help="a folder written by patrolsim run")
    p.add_argument("--format", dest="fmt", choices=("geojson", "gpkg"), default="geojson",
                   help="geojson (default: one file per layer) or gpkg (one GeoPackage)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/gis/)")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.outputs import adopt, output_folder
    from sim.report.gis import check_results_dir, export

    check_results_dir(args.results)  # before any output folder is made
    out = args.out or Path(args.results) / "gis"
    _check_out(out, Path(args.results))
    if not args.quiet:
        print(f"patrolsim export: {args.results} -> {out} ({args.fmt})", file=sys.stderr, flush=True)
    with output_folder(out, command="export") as tmp:
        counts = export(args.results, fmt=args.fmt, folder=tmp)
    if out.resolve().parent == Path(args.results).resolve():
        adopt(args.results, out.name)  # gis/ inside the run's folder is the run's own from now on
    if not args.quiet:
        files = "patrolsim.gpkg" if args.fmt == "gpkg" else ", ".join(f"{n}.geojson" for n in counts)
        print("  " + ", ".join(f"{n}: {c} features" for n, c in counts.items()))
        print(f"  wrote {out}/ ({files}), WGS84 (EPSG:4326)")
    return 0


def _check_out(out: Path, results: Path) -> None:
    """The output folder is replaced whole: refuse the run's own folder or one above it (a folder
    holding files patrolsim did not write is refused by ``sim.outputs.output_folder``)."""
    from sim.errors import InputError

    o, r = out.resolve(), results.resolve()
    if o == r or o in r.parents:
        raise InputError("would replace the results folder it exports", key="--out",
                         fix=f"choose a folder of its own, e.g. {results / 'gis'}")
