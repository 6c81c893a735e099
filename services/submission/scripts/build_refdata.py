#!/usr/bin/env python3
"""Build the reference data of French collectivités shipped with the submission service.

One file per millésime (the year whose populations and perimeters it holds):

* millésime 2026 (the default): the npm package ``@etalab/decoupage-administratif``
  (data under Licence Ouverte / Etalab 2.0, code MIT). Version 6.0.0 carries the
  2026 millésime of the Code officiel géographique (INSEE), the INSEE legal
  populations and the DGCL list of EPCI à fiscalité propre.
* millésime 2016 (``--millesime 2016``): what was in force at the 2017 edition's
  dossier deadline — the INSEE populations légales 2013 (in force from 1 January
  2016, file HIST_POP_COM_RP13) and the DGCL list of EPCI à fiscalité propre at
  1 January 2016, both Licence Ouverte. No package registry serves them: the
  oldest release of the npm package (0.3.0) already carries the 2019 millésime.
  They are read from the repository etalab/geohisto (``--source`` is a checkout
  of it), where Etalab keeps them as UTF-8 CSV; each file is pinned by its sha256.
  Départements and régions come from the 2026 build (the régions of 2016 are
  today's: the reform took effect on 1 January 2016), so build 2026 first.

Outputs, next to the loader in ``palmares_submission/refdata/``:

* ``collectivites-<millésime>.csv.gz`` — one row per commune (INSEE code, 5
  chars) and per EPCI (SIREN, 9 digits): ``code,kind,name,departement,region,
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
    python services/submission/scripts/build_refdata.py --millesime 2016 --source path/to/geohisto
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

# The millésime the npm package above carries.
CURRENT_MILLESIME = 2026

# Millésime 2016: files of etalab/geohisto at commit 65e6f304a3eecf63c43f214a331cb8a1162ae2de,
# pinned by sha256 like the npm tarball (a changed file must not silently change the data).
GEOHISTO_COMMIT = "65e6f304a3eecf63c43f214a331cb8a1162ae2de"
GEOHISTO_FILES = {
    "sources/population_metropole.csv": "148a652f87307bba16e8b960c33fa20a9df4b78a8585f5dba2a71e8775061df3",
    "sources/population_dom.csv": "588510931036f66b388ced620169d683ca4390896be80b10f89b7ae12dbcfaec",
    "sources/epci/2016.csv": "39ba39e45b7654e7716e213e0f218db966287b7f32310254362289648df66757",
}

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "palmares_submission" / "refdata"
DEPARTEMENTS_FILE = "departements.csv.gz"


def collectivites_file(millesime: int) -> str:
    return f"collectivites-{millesime}.csv.gz"


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


def _main_departement(weight: dict[str, int]) -> str:
    """The département holding most of an EPCI's population; ties break on the smallest code."""
    return min(weight, key=lambda dep: (-weight[dep], dep))


def _sorted_unique(rows: list[Row]) -> list[Row]:
    """Communes first, then EPCI, each by code; a code twice is an error."""
    rows.sort(key=lambda r: (r.kind != "commune", r.code))
    codes = [r.code for r in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate codes in the reference data")
    return rows


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
        departement = _main_departement(weight)
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

    return _sorted_unique(rows)


def _departement_of(insee: str) -> str:
    """The département of a commune's INSEE code (overseas: three characters)."""
    return insee[:3] if insee.startswith("97") else insee[:2]


def build_rows_2016(
    populations: Iterable[dict[str, str]],
    epci_members: Iterable[dict[str, str]],
    region_of_dep: dict[str, str],
) -> list[Row]:
    """Rows of the 2016 millésime from INSEE's populations légales 2013 and DGCL's EPCI list.

    `populations`: rows of HIST_POP_COM_RP13 (``DEPCOM``, ``LIBMIN``, ``PMUN13``), in the
    geography of their publication (communes at 1 January 2015): a commune nouvelle
    created on 1 January 2016 appears as its former communes, the chef-lieu's code
    carrying the chef-lieu's population (as the population légale of the census).
    `epci_members`: one row per member commune of an EPCI at 1 January 2016 (``siren``,
    ``nom``, ``nature``, ``pmun``, ``insee``, ``pmun_com``).
    """
    rows: list[Row] = []
    departement_of: dict[str, str] = {}
    for p in populations:
        code = p["DEPCOM"]
        departement = _departement_of(code)
        departement_of[code] = departement
        rows.append(
            Row(
                code=code,
                kind="commune",
                name=p["LIBMIN"],
                departement=departement,
                region=region_of_dep[departement],
                population=int(p["PMUN13"]),
                epci_type="",
            )
        )
    epcis: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in epci_members:
        epcis[m["siren"]].append(m)
    for siren, members in epcis.items():
        first = members[0]
        weight: dict[str, int] = defaultdict(int)
        for m in members:
            # The DGCL file lost the leading zero of départements 01–09 ("7071" is 07071).
            insee = m["insee"].zfill(5)
            weight[departement_of.get(insee, _departement_of(insee))] += int(m["pmun_com"] or 0)
        departement = _main_departement(weight)
        rows.append(
            Row(
                code=siren,
                kind="epci",
                name=first["nom"],
                departement=departement,
                region=region_of_dep[departement],
                population=int(first["pmun"]),
                epci_type=first["nature"],
            )
        )
    return _sorted_unique(rows)


# Names the package writes otherwise than French typography does (a collectivité's compound name takes
# hyphens); the same code names the département and the région.
SPELLING = {"986": "Wallis-et-Futuna"}


def build_departements(
    departements: Iterable[dict[str, Any]], regions: Iterable[dict[str, Any]]
) -> list[tuple[str, str, str, str]]:
    region_name = {r["code"]: SPELLING.get(r["code"], r["nom"]) for r in regions}
    return sorted(
        (d["code"], SPELLING.get(d["code"], d["nom"]), d["region"], region_name[d["region"]]) for d in departements
    )


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
    """Return the output files' bytes of the current millésime, keyed by file name."""
    departements = _load(data_dir, "departements")
    rows = build_rows(_load(data_dir, "communes"), _load(data_dir, "epci"), departements)
    deps = build_departements(departements, _load(data_dir, "regions"))
    return {
        collectivites_file(CURRENT_MILLESIME): _gzip_deterministic(
            _csv_bytes(COLLECTIVITES_HEADER, (r.as_tuple() for r in rows))
        ),
        DEPARTEMENTS_FILE: _gzip_deterministic(_csv_bytes(DEPARTEMENTS_HEADER, deps)),
    }


def _read_pinned_csv(checkout: Path, path: str) -> list[dict[str, str]]:
    raw = (checkout / path).read_bytes()
    if hashlib.sha256(raw).hexdigest() != GEOHISTO_FILES[path]:
        raise SystemExit(f"{path} does not match its pinned sha256 (etalab/geohisto@{GEOHISTO_COMMIT})")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter=";"))


def render_2016(checkout: Path, out: Path) -> dict[str, bytes]:
    """Return the 2016 millésime's file, from a checkout of etalab/geohisto and the 2026 départements."""
    departements = csv.DictReader(io.StringIO(gzip.decompress((out / DEPARTEMENTS_FILE).read_bytes()).decode()))
    region_of_dep = {d["code"]: d["region"] for d in departements}
    populations = [
        *_read_pinned_csv(checkout, "sources/population_metropole.csv"),
        *_read_pinned_csv(checkout, "sources/population_dom.csv"),
    ]
    rows = build_rows_2016(populations, _read_pinned_csv(checkout, "sources/epci/2016.csv"), region_of_dep)
    return {
        collectivites_file(2016): _gzip_deterministic(_csv_bytes(COLLECTIVITES_HEADER, (r.as_tuple() for r in rows)))
    }


def _summary(files: dict[str, bytes]) -> Iterator[str]:
    name = next(n for n in files if n.startswith("collectivites-"))
    text = gzip.decompress(files[name]).decode("utf-8")
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
        "--millesime",
        type=int,
        choices=(2016, CURRENT_MILLESIME),
        default=CURRENT_MILLESIME,
        help="which millésime to build (2016 needs --source: a checkout of etalab/geohisto)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        help=f"tarball of {PACKAGE} or an unpacked package dir (default: npm pack {VERSION}); "
        "for --millesime 2016, a checkout of etalab/geohisto",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the files differ")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the pinned integrity check of the tarball (other versions)",
    )
    args = parser.parse_args(argv)

    if args.millesime == 2016:
        if args.source is None or not args.source.is_dir():
            raise SystemExit("--millesime 2016 needs --source: a checkout of etalab/geohisto")
        files = render_2016(args.source, args.out)
    else:
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
