"""The runtime's modules and the evaluation library's import one another without a cycle.

A cycle (the runtime's metrics and its composition root once imported each
other) means two jobs that cannot change or be tested apart. import-linter
has no contract for "no cycle among all the modules of a package" (its
`acyclic_siblings` looks at siblings only), so the graph is read with grimp,
which it is built on.
"""

from __future__ import annotations

import grimp

PACKAGES = ("palmares_eventkit", "palmares_evaluation")


def cycles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Each direct import a → b of the packages that b imports back, directly or not."""
    return sorted(
        (module, imported)
        for module in graph.modules
        if module.startswith(PACKAGES)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith(PACKAGES) and graph.chain_exists(importer=imported, imported=module)
    )


def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_no_module_of_the_runtime_or_the_evaluation_is_in_an_import_cycle() -> None:
    assert cycles(graph()) == []


def test_a_cycle_is_found() -> None:
    broken = graph()
    # The composition root imports the metrics: the metrics importing it back closes a cycle.
    assert broken.direct_import_exists(importer="palmares_eventkit.lifecycle", imported="palmares_eventkit.metrics")
    broken.add_import(importer="palmares_eventkit.metrics", imported="palmares_eventkit.lifecycle")
    assert ("palmares_eventkit.lifecycle", "palmares_eventkit.metrics") in cycles(broken)
