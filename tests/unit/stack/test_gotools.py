"""The operator tools built from the Go module proxy: each build module pins the package and the version
the launcher names (the binary's file name carries the version: a mismatch would rebuild nothing)."""

from __future__ import annotations

import pytest
from palmares_stack.gotools import TOOLS, GoTool


def tools_and_requirements(go_mod: str) -> tuple[set[str], dict[str, str]]:
    """The `tool` packages and the `module version` requirements of a go.mod."""
    tools: set[str] = set()
    block = False
    requirements: dict[str, str] = {}
    for line in go_mod.splitlines():
        stripped = line.split("//")[0].strip()
        if stripped == "tool (":
            block = True
        elif block and stripped == ")":
            block = False
        elif block and stripped:
            tools.add(stripped)
        elif stripped.startswith("tool "):
            tools.add(stripped.split()[1])
        elif line.startswith("\t") and len(stripped.split()) == 2:
            module, version = stripped.split()
            requirements[module] = version
    return tools, requirements


@pytest.mark.parametrize("tool", TOOLS.values(), ids=lambda t: t.name)
def test_the_build_module_pins_the_tool_at_its_version(tool: GoTool) -> None:
    tools, requirements = tools_and_requirements((tool.module_dir / "go.mod").read_text(encoding="utf-8"))
    assert tool.package in tools, f"{tool.module_dir}/go.mod: `go get -tool {tool.package}@{tool.version}`"
    owners = [m for m in requirements if tool.package == m or tool.package.startswith(m + "/")]
    module = max(owners, key=len)  # the longest module path that holds the package
    assert requirements[module] == tool.version
    assert (tool.module_dir / "go.sum").is_file()
    assert tool.binary().name == f"{tool.name}-{tool.version}"


def test_a_go_mod_without_the_tool_or_at_another_version_is_seen() -> None:
    go_mod = "module x\n\ngo 1.26\n\ntool example.org/a/cmd/a\n\nrequire (\n\texample.org/a v1.2.3 // indirect\n)\n"
    tools, requirements = tools_and_requirements(go_mod)
    assert tools == {"example.org/a/cmd/a"} and requirements == {"example.org/a": "v1.2.3"}
    tools, _ = tools_and_requirements(go_mod.replace("tool example.org/a/cmd/a", "tool (\n\texample.org/b/cmd/b\n)"))
    assert tools == {"example.org/b/cmd/b"}
