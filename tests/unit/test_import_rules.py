"""The import rules between the packages (docs/architecture.md, "Layers and import rules").

The rules are import-linter contracts in pyproject.toml (`[tool.importlinter]`); this test runs
them, shows that each one catches the import it forbids, and checks the two allow-lists that a
forbidden list cannot state: the contracts import pydantic and the standard library only, the
label's rules the contracts and the standard library only.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

from tools import layers

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"
CONTRACT_TYPES = {
    "forbidden": ForbiddenContract,
    "independence": IndependenceContract,
    "layers": LayersContract,
    "protected": ProtectedContract,
}
# For each rule, one import that breaks it: a rule that lets its own counter-example through checks nothing.
COUNTER_EXAMPLES = {
    "layers": ("palmares_contracts.events", "palmares_eventkit"),
    "contracts-pydantic-only": ("palmares_contracts.codec", "asyncpg"),
    "label-contracts-only": ("palmares_label", "palmares_eventkit"),
    "runtime-knows-no-service": ("palmares_eventkit", "palmares_label"),
    "services-independent": ("palmares_notify", "palmares_submission"),
    "domain-no-io": ("palmares_scoring.domain", "asyncpg"),
    "submission-layers": ("palmares_submission.domain.dossier", "palmares_submission.store"),
    "submission-entry-points-no-driver": ("palmares_submission.web.sign_in", "asyncpg"),
    "notify-entry-points-no-driver": ("palmares_notify.sender", "asyncpg"),
    "evaluator-no-driver": ("palmares_evaluation.evaluator", "asyncpg"),
    "cli-no-service": ("palmares_cli", "palmares_eventkit"),
    "tools-imported-by-none": ("palmares_submission", "bench"),
    "services-run-alone": ("palmares_stack", "palmares_scoring"),
    "runtime-for-services": ("palmares_stack", "palmares_eventkit"),
    "evaluation-for-scoring-and-mentions": ("palmares_notify", "palmares_evaluation"),
}


def options() -> Any:
    configuration.configure()  # import-linter's readers and graph builder, as its command line sets them up
    return read_user_options(config_filename=str(PYPROJECT))


def graph() -> grimp.ImportGraph:
    roots = options().session_options["root_packages"]
    return grimp.build_graph(*roots, include_external_packages=True, cache_dir=None)


def imported_by(import_graph: grimp.ImportGraph, package: str) -> set[str]:
    """The top-level names of what `package` imports, itself left out."""
    modules = {m for m in import_graph.modules if m == package or m.startswith(package + ".")}
    names = {i.split(".")[0] for m in modules for i in import_graph.find_modules_directly_imported_by(m)}
    return names - {package}


def test_the_import_rules_hold() -> None:
    """`lint-imports`, as a developer runs it, from the repository's root."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_package_of_the_repository_is_under_the_rules() -> None:
    sources = [REPO / "contracts" / "src", REPO / "deploy" / "stack" / "src", *(REPO / "services").glob("*/src")]
    packages = {p.name for source in sources for p in source.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    roots = set(options().session_options["root_packages"])
    assert packages | {"bench", "tools"} == roots, "add the new package to [tool.importlinter] and to its rules"


def test_every_rule_has_a_counter_example() -> None:
    assert {c["id"] for c in options().contracts_options} == set(COUNTER_EXAMPLES)


@pytest.mark.parametrize("rule", sorted(COUNTER_EXAMPLES))
def test_each_rule_catches_the_import_it_forbids(rule: str) -> None:
    user_options = options()
    (contract_options,) = [c for c in user_options.contracts_options if c["id"] == rule]
    contract = CONTRACT_TYPES[contract_options["type"]](
        name=contract_options["name"],
        session_options=user_options.session_options,
        contract_options=contract_options,
    )
    import_graph = graph()
    # A check removes the rule's ignored imports from the graph it is given: each check gets its own copy.
    assert contract.check(copy.deepcopy(import_graph), verbose=False).kept, f"{rule} is broken already"
    importer, imported = COUNTER_EXAMPLES[rule]
    import_graph.add_import(importer=importer, imported=imported)
    assert not contract.check(import_graph, verbose=False).kept, f"{rule} lets {importer} import {imported}"


def test_the_contracts_import_pydantic_and_the_standard_library_only() -> None:
    third_party = imported_by(graph(), "palmares_contracts") - sys.stdlib_module_names
    assert third_party <= {"pydantic"}, third_party


def test_the_label_rules_import_the_contracts_and_the_standard_library_only() -> None:
    third_party = imported_by(graph(), "palmares_label") - sys.stdlib_module_names
    assert third_party <= {"palmares_contracts"}, third_party


def test_each_package_declares_the_palmares_packages_it_imports() -> None:
    """An import of a Palmarès package not in the importer's pyproject.toml works here (all are installed) and
    fails in its image, which installs only what the service declares (deploy/docker/service_packages.py)."""
    import_graph = graph()
    for pyproject in [REPO / "contracts" / "pyproject.toml", *(REPO / "services").glob("*/pyproject.toml")]:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        package = project["name"].replace("-", "_")
        declared = {d.split("[")[0].split("=")[0].strip().replace("-", "_") for d in project.get("dependencies", [])}
        used = {name for name in imported_by(import_graph, package) if name.startswith("palmares_")}
        assert used <= declared, f"{pyproject.relative_to(REPO)} does not declare {sorted(used - declared)}"


def test_the_picture_of_the_layers_is_drawn_from_these_rules() -> None:
    """docs/layers.svg is what `make layers` draws from the `layers` rule (same rules, same bytes)."""
    assert layers.main(["--check"]) == 0, "docs/layers.svg is stale: make layers"
