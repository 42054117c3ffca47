"""The README is for users: short, with the install and test commands CI runs, a generated families table,
links that resolve; the generated tables of docs/ are in sync with what they are generated from."""

import re

from conftest import REPO

README = REPO / "README.md"


def test_the_readme_is_short_and_starts_with_what_users_need():
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) <= 170, len(lines)
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:2] == ["## Install", "## Stylise in Python"]
    for needed in ("zoo.create_model(", "zoo.stylize(", "zoo stylize ", "--weights random", "## Training", "## Links"):
        assert needed in text, needed


def test_ci_runs_the_readme_install_and_test_commands():
    readme = README.read_text()
    ci = (REPO / ".ci" / "run").read_text()
    install = 'pip install -e ".[dev]"'
    assert re.search(rf"^{re.escape(install)}\s", readme, re.M) and re.search(rf"^{re.escape(install)}\s", ci, re.M)
    assert re.search(r"^pytest\s", readme, re.M) and re.search(r"^pytest\s", ci, re.M)
    assert ".ci/core" in ci  # the core install alone, from outside the repository


def test_every_extra_the_readme_installs_is_declared():
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = set(re.findall(r'stylezoo\[(\w+)\]', README.read_text())) | set(re.findall(r'\.\[(\w+)\]', README.read_text()))
    assert named and named <= set(declared), named - set(declared)


def test_the_families_table_is_generated_from_the_records(tmp_path):
    from benchmarks import families_table as FT
    from zoo.families import FAMILIES

    assert FT.main(["--check"]) == 0
    text = README.read_text()
    table = text.split(FT.START)[1].split(FT.END)[0]
    assert [re.match(r"\| `(\w+)` \|", row).group(1) for row in table.splitlines()[3:] if row] == FAMILIES.names()
    edited = tmp_path / "README.md"
    edited.write_text(text.replace(FT.END, "| `stylegan` | a family that is not there | no | – | – |\n" + FT.END))
    assert FT.main(["--check", "--readme", str(edited)]) == 1


def test_the_tag_and_speed_tables_of_docs_are_in_sync():
    from benchmarks import speed_table as ST
    from benchmarks import table as T

    assert T.main(["--check"]) == 0
    assert ST.main(["--check"]) == 0
    assert T.START in (REPO / "docs" / "models.md").read_text() and T.START not in README.read_text()


def test_links_of_the_readme_and_contributing_resolve():
    for doc in (README, REPO / "CONTRIBUTING.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"
