#!/usr/bin/env python3
"""Build the reference data of French collectivités shipped with the submission service.

Source: the npm package ``@etalab/decoupage-administratif`` (data under Licence
Ouverte / Etalab 2.0, code MIT). Version 6.0.0 carries the 2026 millésime of the
Code officiel géographique (INSEE), the INSEE legal populations and the DGCL list
of EPCI à fiscalité propre.

Outputs, next to the loader in ``palmares_submission/refdata/``:

* ``collectivites.csv.gz`` — one row per current commune (INSEE code, 5 chars)
  and per EPCI (SIREN, 9 digits): ``code,kind,name,departement,region,
  population,epci_type``.
* ``departements.csv.gz`` — ``code,name,region,region_name`` (names are kept out
  of the big file: 109 rows instead of ~36,000 repeated strings). Gzipped too,
  so that one package-data glob (``refdata/*.csv.gz``) ships both files.

The output is deterministic (rows sorted, fixed CSV dialect, gzip header with
mtime=0 and no file name), so regenerating from the same package gives the same
bytes (for a given zlib), and ``--check`` proves that the committed files match
their source (comparing decompressed content, so another zlib build still passes).

Usage (stdlib only; ``npm`` is needed only when no ``--source`` is given)::

    python services/submission/scripts/build_refdata.py            # npm pack, build
    python services/submission/scripts/build_refdata.py --source pkg.tgz
    python services/submission/scripts/build_refdata.py --source ./package
    python services/submission/scripts/build_refdata.py --check    # verify, exit 1 on drift
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
# Subresource integrity published by the npm registry for 6.0.0 (`npm view
# @etalab/decoupage-administratif@6.0.0 dist.integrity`). Pinned so that a
# re-published or tampered tarball cannot silently change the reference data.
INTEGRITY = "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "palmares_submission" / "refdata"
COLLECTIVITES_FILE = "collectivites.csv.gz"
DEPARTEMENTS_FILE = "departements.csv.gz"
COLLECTIVITES_HEADER = ("code", "kind", "name", "departement", "region", "population", "epci_type")
DEPARTEMENTS_HEADER = ("code", "name", "region", "region_name")


@dataclass(frozen=True, slots=True)
class Row:
    code: str
    kind: str
    name: str
    departement: str
    region: str
    population: int
    epci_type: str

    def as_tuple(self) -> tuple[str, ...]:
        return (
            self.code,
            self.kind,
            self.name,
            self.departement,
            self.region,
            str(self.population),
            self.epci_type,
        )


# --------------------------------------------------------------------------- input


def _sri_matches(data: bytes, integrity: str) -> bool:
    algo, _, expected = integrity.partition("-")
    digest = hashlib.new(algo, data).digest()
    return base64.b64encode(digest).decode("ascii") == expected


def _npm_pack(dest: Path) -> Path:
    """Download the pinned tarball with the ordinary npm client (no install, no scripts)."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: install Node.js or pass --source <tarball|dir>")
    subprocess.run(
        [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(dest), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SystemExit(f"npm pack produced {len(tarballs)} tarballs in {dest}")
    return tarballs[0]


def _data_dir_from_tarball(tarball: Path, workdir: Path, *, verify: bool) -> Path:
    raw = tarball.read_bytes()
    if verify and not _sri_matches(raw, INTEGRITY):
        raise SystemExit(
            f"{tarball} does not match the pinned integrity of {PACKAGE}@{VERSION}; "
            "pass --no-verify to build from another version on purpose"
        )
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        # Only the four JSON files are needed; extract them by name, which also
        # avoids trusting arbitrary paths inside the archive.
        for name in ("communes", "epci", "departements", "regions"):
            member = tar.getmember(f"package/data/{name}.json")
            extracted = tar.extractfile(member)
            assert extracted is not None
            (workdir / f"{name}.json").write_bytes(extracted.read())
    return workdir


def _resolve_data_dir(source: Path | None, workdir: Path, *, verify: bool) -> Path:
    if source is None:
        return _data_dir_from_tarball(_npm_pack(workdir), workdir, verify=verify)
    if source.is_file():
        return _data_dir_from_tarball(source, workdir, verify=verify)
    # A directory: the unpacked package (``package/``) or its ``data/`` folder.
    for candidate in (source / "data", source):
        if (candidate / "communes.json").is_file():
            return candidate
    raise SystemExit(f"no communes.json under {source}")


def _load(data_dir: Path, name: str) -> list[dict[str, Any]]:
    with (data_dir / f"{name}.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list):
        raise SystemExit(f"{name}.json: expected a JSON list")
    return data


# --------------------------------------------------------------------- transform


def build_rows(
    communes: Iterable[dict[str, Any]],
    epcis: Iterable[dict[str, Any]],
    departements: Iterable[dict[str, Any]],
) -> list[Row]:
    """Turn the package's JSON into sorted rows (communes first, then EPCI)."""
    region_of_dep = {d["code"]: d["region"] for d in departements}
    rows: list[Row] = []
    current: dict[str, dict[str, Any]] = {}

    for c in communes:
        # Only current communes: 'commune-deleguee' / 'commune-associee' are parts
        # of a commune nouvelle and 'arrondissement-municipal' are districts of
        # Paris/Lyon/Marseille; none of them can apply to the label.
        if c["type"] != "commune-actuelle":
            continue
        # Six TAAF districts and Clipperton have no legal population: they are
        # uninhabited territories, not collectivités that could take part.
        if c.get("population") is None:
            continue
        current[c["code"]] = c
        rows.append(
            Row(
                code=c["code"],
                kind="commune",
                name=c["nom"],
                departement=c["departement"],
                region=c["region"],
                population=int(c["population"]),
                epci_type="",
            )
        )

    for e in epcis:
        members = e["membres"]
        # 'populationMunicipale' is the same notion as the communes' 'population'
        # (INSEE population municipale); fall back to the members' sum if absent.
        population = e.get("populationMunicipale")
        if population is None:
            population = sum(int(m.get("populationMunicipale", 0)) for m in members)
        # epci.json has no département: take the one holding most of the EPCI's
        # population (89 EPCI straddle départements, e.g. Métropole du Grand Paris
        # → 75). Ties break on the smallest code, for determinism.
        weight: dict[str, int] = defaultdict(int)
        for m in members:
            commune = current.get(m["code"])
            if commune is not None:
                weight[commune["departement"]] += int(m.get("populationMunicipale", 0))
        if not weight:
            raise SystemExit(f"EPCI {e['code']} has no member among current communes")
        departement = min(weight, key=lambda dep: (-weight[dep], dep))
        rows.append(
            Row(
                code=e["code"],
                kind="epci",
                name=e["nom"],
                departement=departement,
                region=region_of_dep[departement],
                population=int(population),
                epci_type=e["type"],
            )
        )

    rows.sort(key=lambda r: (r.kind != "commune", r.code))
    codes = [r.code for r in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate codes in the reference data")
    return rows


def build_departements(
    departements: Iterable[dict[str, Any]], regions: Iterable[dict[str, Any]]
) -> list[tuple[str, str, str, str]]:
    region_name = {r["code"]: r["nom"] for r in regions}
    return sorted((d["code"], d["nom"], d["region"], region_name[d["region"]]) for d in departements)


# ------------------------------------------------------------------------ output


def _csv_bytes(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _gzip_deterministic(payload: bytes) -> bytes:
    buf = io.BytesIO()
    # filename="" and mtime=0: the header then carries neither a name nor a date,
    # so the same input always gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    return buf.getvalue()


def render(data_dir: Path) -> dict[str, bytes]:
    """Return the output files' bytes, keyed by file name."""
    departements = _load(data_dir, "departements")
    rows = build_rows(_load(data_dir, "communes"), _load(data_dir, "epci"), departements)
    deps = build_departements(departements, _load(data_dir, "regions"))
    return {
        COLLECTIVITES_FILE: _gzip_deterministic(_csv_bytes(COLLECTIVITES_HEADER, (r.as_tuple() for r in rows))),
        DEPARTEMENTS_FILE: _gzip_deterministic(_csv_bytes(DEPARTEMENTS_HEADER, deps)),
    }


def _summary(files: dict[str, bytes]) -> Iterator[str]:
    text = gzip.decompress(files[COLLECTIVITES_FILE]).decode("utf-8")
    kinds: dict[str, int] = defaultdict(int)
    for record in csv.DictReader(io.StringIO(text)):
        kinds[record["kind"]] += 1
    yield f"communes={kinds['commune']} epci={kinds['epci']}"
    for name, payload in sorted(files.items()):
        yield f"{name}: {len(payload)} bytes sha256={hashlib.sha256(payload).hexdigest()}"


def _same_content(path: Path, expected: bytes) -> bool:
    """Compare decoded content: another zlib build may compress the same CSV to other bytes."""
    if not path.is_file():
        return False
    actual = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(actual) == gzip.decompress(expected)
    return actual == expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        help=f"tarball of {PACKAGE} or an unpacked package dir (default: npm pack {VERSION})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the files differ")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the pinned integrity check of the tarball (other versions)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="palmares-refdata-") as tmp:
        data_dir = _resolve_data_dir(args.source, Path(tmp), verify=not args.no_verify)
        files = render(data_dir)

    for line in _summary(files):
        print(line)

    if args.check:
        stale = [n for n, b in files.items() if not _same_content(args.out / n, b)]
        if stale:
            print(f"out of date: {', '.join(sorted(stale))}", file=sys.stderr)
            return 1
        print("reference data is up to date")
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        (args.out / name).write_bytes(payload)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
