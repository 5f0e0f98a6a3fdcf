"""environment.yml (conda, Binder) and pyproject.toml (pip, make) name the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_requirements() -> dict[str, str]:
    """Map name -> requirement string of the conda dependencies (not python, pip, or pip: block)."""
    reqs = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^  - (\S.*)$", line)
        if in_deps and m and not m.group(1).startswith("pip:"):
            req = m.group(1).split("#")[0].strip()
            reqs[_name(req)] = req.replace(" ", "")
    reqs.pop("python", None)
    reqs.pop("pip", None)
    return reqs


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("test", "course"):
        reqs += project["optional-dependencies"][extra]
    return {_name(r): r.replace(" ", "") for r in reqs}


def test_environment_yml_matches_pyproject():
    conda, pip = _conda_requirements(), _pyproject_requirements()
    assert sorted(conda) == sorted(pip), (
        f"only in environment.yml: {sorted(set(conda) - set(pip))}; "
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}"
    )
    for name, req in pip.items():
        assert conda[name] == req, f"{name}: pyproject {req!r}, environment.yml {conda[name]!r}"


def test_environment_yml_installs_the_project_and_pins_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^  - python=3\.11$", text, re.M)
    assert re.search(r"^      - -e \.$", text, re.M)


def test_environment_yml_sets_one_blas_thread_like_the_makefile():
    text = (ROOT / "environment.yml").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert re.search(rf'^  {var}: "1"$', text, re.M), var
        assert re.search(rf"^{var}\s*\?= 1$", makefile, re.M), var
