"""What a user meets before any code: the version, the license, make notebooks, README images."""

import importlib.metadata
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

import autograd
import nn

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the checks are the same on 3.10

ROOT = Path(__file__).resolve().parent.parent


def test_both_packages_carry_the_distributions_version():
    assert autograd.__version__ == nn.__version__ == importlib.metadata.version("chainrule")
    assert re.fullmatch(r"\d+\.\d+\.\d+", autograd.__version__)


def test_the_license_is_an_spdx_string_and_the_file_exists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def _run_jupyter_lab_script(tmp_path):
    fake = tmp_path / "jupyter"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    script = ROOT / "scripts" / "jupyter_lab.sh"
    done = subprocess.run(
        ["sh", str(script), str(fake), "notebooks"], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_make_notebooks_passes_allow_root_exactly_when_run_as_root(tmp_path):
    args = _run_jupyter_lab_script(tmp_path)
    if os.geteuid() == 0:
        assert args == ["lab", "--allow-root", "notebooks"]
    else:
        assert args == ["lab", "notebooks"]


def test_make_notebooks_goes_through_the_script():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nnotebooks:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/jupyter_lab.sh $(BIN)/jupyter notebooks" in recipe


def test_every_image_the_readme_shows_is_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    sources = re.findall(r'<img src="([^"]+)"', readme)
    sources += re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert sources
    for source in sources:
        assert not source.startswith(("http:", "https:", "/")), source
        assert (ROOT / source).is_file(), source


def test_pyproject_reads_the_version_from_autograd():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "autograd._version.__version__"
    }
