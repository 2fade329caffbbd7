"""Docs are tested: every command has help text and a README entry."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from influence_atlas.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands():
    """Return (words after `atlas`, click command) for every command, the subcommands of groups included."""
    out = []
    for name, command in get_command(app).commands.items():
        out.append(((name,), command))
        for sub, subcommand in getattr(command, "commands", {}).items():
            out.append(((name, sub), subcommand))
    return out


def test_every_command_has_help_and_a_readme_entry():
    runner = CliRunner()
    for words, command in _commands():
        name = " ".join(words)
        assert command.help, f"{name} has no help text"
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0 and "--help" in result.output
        assert f"`atlas {name}" in README, f"README does not document `atlas {name}`"


def test_every_documented_option_exists():
    runner = CliRunner()
    for words, command in _commands():
        if getattr(command, "commands", None):
            continue  # a group: its subcommands have the rows
        name = " ".join(words)
        help_text = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"}).output
        row = next((ln for ln in README.splitlines() if ln.startswith(f"| `atlas {name}")), "")
        for option in re.findall(r"`(--[a-z-]+)", row):
            assert option in help_text or option == "--db", f"README names {option} for {name}, but --help does not"


def test_readme_first_section_gives_exactly_two_commands():
    first = README.split("## ")[1]
    block = re.search(r"```\n(.*?)```", first, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


PACKAGE = Path(__file__).resolve().parent.parent / "src" / "influence_atlas"


def test_every_environment_variable_the_package_reads_is_documented():
    read = {m for path in PACKAGE.rglob("*.py") for m in re.findall(r"[\"'](ATLAS_[A-Z_]+)[\"']", path.read_text(encoding="utf-8"))}
    assert read and not [v for v in sorted(read) if f"${v}" not in README and v not in README]


def test_the_layout_section_names_every_package_and_word_file():
    layout = README.split("## Layout")[1].split("\n## ")[0]
    packages = [p.parent.name for p in PACKAGE.glob("*/__init__.py")]
    assert packages and not [p for p in packages if f"`{p}/`" not in layout]
    loaders = [p.stem for p in (PACKAGE / "ontology").glob("*.py") if p.stem != "__init__"]
    assert not [m for m in loaders if f"`{m}" not in layout]
