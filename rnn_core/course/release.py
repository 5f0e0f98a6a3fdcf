"""Build the student release of a course: no solution, no hidden test, every exercise stubbed.

Notebooks go through nbgrader's own preprocessors, in the order ``nbgrader generate_assignment``
uses (LockCells, ClearSolutions, ClearOutput, ComputeChecksums, ClearHiddenTests,
ClearMarkScheme, ComputeChecksums, CheckCellMetadata; no gradebook needed). Package files get
their solution regions replaced by ``raise NotImplementedError("Exercise <name>: ...")`` stubs
(:func:`rnn_core.course.markers.stub_regions`). Finally every file of the release is checked line
by line against the solution and hidden-test lines of the source; any match aborts the release.

The release is laid out for students (docs/architecture.md, D4): the notebooks at the top level,
the package without the course tooling (:data:`NEVER_SHIPPED`), and its own README, Makefile,
pyproject.toml and environment.yml rendered from ``rnn_core/course/templates/``. Each notebook's
set-up cell (the code cell right after the title) is rendered from the same templates, with the
release URL of ``course.toml``.

nbgrader is imported inside the functions, so importing this module needs the standard library.
"""

from __future__ import annotations

import copy
import fnmatch
import re
import shutil
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_core.course.config import CourseConfig, load_config
from rnn_core.course.markers import (
    MarkerError,
    find_regions,
    split_lines,
    stray_marker_text,
    stub_regions,
)

__all__ = [
    "GradedCell",
    "ReleaseReport",
    "ReleaseError",
    "release",
    "autograde_version",
    "student_version",
    "read_notebook",
    "list_exercises",
    "course_secrets",
    "find_leaks",
    "NEVER_SHIPPED",
    "release_name",
    "setup_cell_source",
    "is_setup_cell",
    "insert_setup_cell",
    "student_files",
]

NEVER_SHIPPED = ("rnn_core/course/*", "rnn_core/_kernels/*")
"""Course tooling (release builder, grader, exercise specs, sandbox) and the instructor-only
kernels: left out of every release, whatever ``course.toml`` says."""
TEMPLATES = Path(__file__).parent / "templates"
_SETUP_FIRST_LINE = "# Set-up: run this cell first."

_NAME_SLOT = "@@GRADE_ID@@"
_CODE_STUB = (
    "# YOUR CODE HERE\n"
    f'raise NotImplementedError("Exercise {_NAME_SLOT}: write your answer in this cell")'
)
_ALWAYS_SKIP = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache")


class ReleaseError(RuntimeError):
    """The release cannot be built (bad markers or metadata) or would leak a solution."""


@dataclass(frozen=True)
class GradedCell:
    """One graded cell of the course's notebooks (one CSV column): a test cell, whose grading
    :class:`rnn_core.course.cases.Exercise` adds from the spec, or a written answer."""

    grade_id: str
    notebook: str
    """notebook path relative to the source folder"""
    points: float
    manual: bool
    """graded by hand (a written answer) rather than by tests"""


@dataclass
class ReleaseReport:
    """What :func:`release` wrote."""

    out: Path
    notebooks: list[str] = field(default_factory=list)
    stubbed: dict[str, list[str]] = field(default_factory=dict)
    """package file -> names of the exercises stubbed in it"""
    exercises: list[GradedCell] = field(default_factory=list)
    version: str = "0.0.0"
    """the course version written into the release (README, pyproject.toml)"""
    files: int = 0

    @property
    def auto_points(self) -> float:
        return sum(e.points for e in self.exercises if not e.manual)

    @property
    def manual_points(self) -> float:
        return sum(e.points for e in self.exercises if e.manual)


def read_notebook(path: Path, where: str | None = None) -> Any:
    """Read a v4 notebook and validate its nbgrader metadata; errors name the notebook."""
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    label = where or str(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same one-line message
        raise ReleaseError(f"{label}: not a readable notebook ({type(e).__name__}: {e})") from e
    try:
        MetadataValidator().validate_nb(nb)
    except ValidationError as e:
        raise ReleaseError(f"{label}: bad nbgrader metadata: {e}") from e
    return nb


def _run(pp: Any, nb: Any, resources: dict, label: str) -> Any:
    try:
        nb, _ = pp.preprocess(nb, resources)
    except (RuntimeError, ValueError) as e:
        raise ReleaseError(f"{label}: nbgrader {type(pp).__name__}: {e}") from e
    return nb


def _stub_names(nb: Any, where: str) -> list[list[str]]:
    """Per cell, the exercise name of each solution region: its enclosing function, else the
    cell's grade id (so a stub says ``Exercise jacobians_along: ...``)."""
    names: list[list[str]] = []
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            names.append([])
            continue
        try:
            regions = find_regions(cell.source, f"{where}: cell {i + 1}")
        except MarkerError as e:
            raise ReleaseError(str(e)) from e
        gid = meta.get("grade_id", "answer")
        names.append([r.name or gid for r in regions if r.kind == "solution"] or [gid])
    return names


def _name_stubs(nb: Any, names: list[list[str]]) -> None:
    for cell, mine in zip(nb.cells, names, strict=True):
        k = 0
        while _NAME_SLOT in cell.source:
            name = mine[min(k, len(mine) - 1)] if mine else "answer"
            cell.source = cell.source.replace(_NAME_SLOT, name, 1)
            k += 1


def autograde_version(nb: Any, where: str = "<notebook>") -> Any:
    """The source notebook as the grader uses it: solutions stubbed, hidden tests kept.

    This is what ``nbgrader generate_assignment`` stores in its gradebook (the SaveCells
    snapshot): locked and test cells of a submission are restored from it.
    """
    from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, LockCells

    for i, cell in enumerate(nb.cells):
        stray = stray_marker_text(cell.source)
        if stray:
            line = cell.source.split("\n")[stray[0]].strip()
            raise ReleaseError(
                f"{where}: cell {i + 1}, line {stray[0] + 1} mentions an exercise marker in "
                f"running text ({line[:60]!r}); nbgrader takes any such line for a marker: "
                "reword it"
            )
    nb = copy.deepcopy(nb)
    names = _stub_names(nb, where)
    resources: dict = {}
    nb = _run(LockCells(), nb, resources, where)
    nb = _run(ClearSolutions(code_stub={"python": _CODE_STUB}), nb, resources, where)
    _name_stubs(nb, names)
    nb = _run(ClearOutput(), nb, resources, where)
    nb = _run(ComputeChecksums(), nb, resources, where)
    return nb


def student_version(nb: Any, where: str = "<notebook>") -> Any:
    """The notebook students get: :func:`autograde_version` without hidden tests."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ComputeChecksums,
    )

    nb = autograde_version(nb, where)
    resources: dict = {}
    nb = _run(ClearHiddenTests(), nb, resources, where)
    nb = _run(ClearMarkScheme(), nb, resources, where)
    nb = _run(ComputeChecksums(), nb, resources, where)
    nb = _run(CheckCellMetadata(), nb, resources, where)
    return nb


def list_exercises(source: str | Path, config: CourseConfig | None = None) -> list[GradedCell]:
    """Every graded cell of the course in notebook order; grade ids must be unique."""
    root = Path(source)
    cfg = config or load_config(root)
    out: list[GradedCell] = []
    seen: dict[str, str] = {}
    for rel in cfg.notebook_paths(root):
        nb = read_notebook(root / rel, str(rel))
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            gid = meta["grade_id"]
            if gid in seen:
                raise ReleaseError(
                    f"{rel}: grade_id {gid!r} is already used in {seen[gid]}; "
                    "grade ids name the CSV columns and must be unique in the course"
                )
            seen[gid] = str(rel)
            out.append(GradedCell(gid, rel.as_posix(), float(meta["points"]),
                                  bool(meta["solution"])))
    return out


def _skipped(rel: Path, exclude: list[str]) -> bool:
    if any(part in _ALWAYS_SKIP for part in rel.parts) or rel.suffix in (".pyc", ".pyo"):
        return True
    if rel.name in (".DS_Store",):
        return True
    posix = rel.as_posix()
    return any(fnmatch.fnmatch(posix, pat) for pat in (*exclude, *NEVER_SHIPPED))


def release_name(rel: str | Path) -> str:
    """Where a source notebook goes in the release: its file name, at the top level (nbgrader's
    feedback only looks at an assignment's top-level files)."""
    return Path(rel).name


_LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def relink(nb: Any, rel: str | Path, shipped: dict[str, str]) -> None:
    """Point the markdown links of the notebook at ``rel`` (relative to the course source) to
    where their targets sit in the release; ``shipped`` maps source path -> release path, both
    POSIX and relative. Links to anything else (URLs, files that do not ship) stay as they are.
    """
    here = Path(rel).parent

    def fix(m: re.Match) -> str:
        target = m.group(1)
        if ":" in target or target.startswith("/"):
            return m.group(0)  # a URL or an absolute path
        parts: list[str] = []
        for part in (here / target).as_posix().split("/"):
            if part == "..":
                if not parts:
                    return m.group(0)  # outside the source
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        new = shipped.get("/".join(parts))
        return m.group(0) if new is None else f"]({new}{m.group(2) or ''})"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _LINK.sub(fix, cell.source)


# --------------------------------------------------------------------------- student files


def setup_cell_source(cfg: CourseConfig) -> str:
    """The notebooks' set-up cell (right after the title), with the release URL of ``cfg``."""
    text = (TEMPLATES / "setup_cell.py").read_text(encoding="utf-8").strip("\n")
    url = cfg.release_url or "https://example.invalid/release-url-not-set-in-course.toml"
    return text.replace("@@RELEASE_URL@@", url)


def is_setup_cell(cell: Any) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(_SETUP_FIRST_LINE)


def insert_setup_cell(nb: Any, cfg: CourseConfig) -> bool:
    """Put the set-up cell right after the notebook's first (title) markdown cell, or refresh it
    there. Returns True when the notebook changed."""
    import nbformat

    want = setup_cell_source(cfg)
    if len(nb.cells) > 1 and is_setup_cell(nb.cells[1]):
        changed = nb.cells[1].source != want
        nb.cells[1].source = want
        return changed
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ReleaseError("insert_setup_cell: the notebook must start with its title (markdown)")
    cell = nbformat.v4.new_code_cell(want)
    cell.id = "setup"  # stable, so that re-inserting gives the same file
    nb.cells.insert(1, cell)
    return True


def _title_and_time(nb: Any, name: str = "notebook") -> tuple[str, str]:
    """(title, time) from a notebook's first cell: its ``# `` heading and its ``**Time**:`` line.

    A notebook without a ``**Time**`` line gets an empty time; one whose line does not read
    ``**Time**: [about] N minutes`` (or ``N-M minutes``) is an error, not an empty table cell.
    """
    text = nb.cells[0].source if nb.cells else ""
    title = next((ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), "")
    # the minutes only ("60 minutes", "90-120 minutes"): what follows them ("for a first-timer,
    # 25 of them for the exercises") is for the notebook's reader, not for a table cell
    m = re.search(r"\*\*Time:?\*\*:?\s*(?:about\s+)?(\d+(?:-\d+)?\s+minutes)", text)
    if m is None and "**Time" in text:
        line = next(ln for ln in text.splitlines() if "**Time" in ln)
        raise ValueError(
            f"{name}: its first cell's time line must start '**Time**: N minutes' (or 'about N', "
            f"'N-M minutes'), got {line.strip()[:80]!r}"
        )
    return title, (m.group(1) if m else "")


def _requirements(root: Path) -> list[str]:
    """The student package's dependencies: the source's runtime dependencies (never its extras,
    where nbgrader lives)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ["numpy"]
    return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])


def student_files(root: Path, cfg: CourseConfig, notebooks: dict[str, Any]) -> dict[str, str]:
    """Top-level files of the release, rendered from the templates: README.md (the table of
    notebooks with times and Colab links), Makefile, pyproject.toml, environment.yml."""
    rows = ["| notebook | what | time | Colab |", "|---|---|---|---|"]
    for rel, nb in notebooks.items():
        name = release_name(rel)
        title, minutes = _title_and_time(nb, rel)
        what = title.split("·", 1)[-1].strip() if "·" in title else title
        colab = f"[Open in Colab]({cfg.colab_url}{name})" if cfg.colab_url else ""
        rows.append(f"| [{name}]({name}) | {what} | {minutes} | {colab} |")
    if cfg.colab_url and cfg.release_url:
        colab_text = (
            'Every notebook has an "Open in Colab" link in the table above. On Colab the '
            "notebook's first cell downloads this release (from "
            f"{cfg.release_url}) into `/content/rnn-gradflow`, installs it and turns on Colab's "
            "widgets. Write your exercises in the files under `/content/rnn-gradflow/rnn_core` "
            "(Colab's Files panel: double-click a file to edit it, Ctrl+S to save) and re-run the "
            "self-check. A notebook opened from its link is saved nowhere until you use File > "
            "Save a copy in Drive, and Colab forgets `/content` when the runtime stops. Each "
            "notebook gets its own runtime, and the first cell of a new runtime downloads a fresh "
            "release whose exercises are empty: download the files you edit, and upload them "
            "into `/content/rnn-gradflow/rnn_core` in every later notebook before its "
            "self-checks. To hand in, put your notebooks (File > Download > .ipynb) and your "
            "`rnn_core/` files, in their subfolders, into the unzipped release folder on a "
            "machine with Python, then run `make install` and `make submit` there.\n\nThis "
            "Colab path has been tested only with a simulated Colab, not on Colab itself; if its "
            "first cell fails, work locally as above."
        )
    else:
        colab_text = "This release has no Colab link: work locally as above."
    reqs = _requirements(root)
    deps = ",\n".join(f'    "{r}"' for r in reqs) + ","
    conda = "\n".join(f"  - {r}" for r in reqs)
    include = ", ".join(f'"{p}*"' for p in cfg.packages)
    version = source_version(root)
    # pyproject.toml.in: a file named pyproject.toml would be read as configuration by tools
    names = {
        "README.md": "README.md",
        "Makefile": "Makefile",
        "pyproject.toml": "pyproject.toml.in",
        "environment.yml": "environment.yml",
    }
    read = {n: (TEMPLATES / t).read_text(encoding="utf-8") for n, t in names.items()}
    return {
        "README.md": read["README.md"]
        .replace("@@VERSION@@", version)
        .replace("@@TABLE@@", "\n".join(rows))
        .replace(
            "@@COLAB@@",
            "\n\n".join(
                textwrap.fill(t, 100, break_long_words=False, break_on_hyphens=False)
                for t in colab_text.split("\n\n")
            ),
        ),
        "Makefile": read["Makefile"],
        "pyproject.toml": read["pyproject.toml"]
        .replace("@@DEPENDENCIES@@", deps)
        .replace("@@VERSION@@", version)
        .replace('include = ["rnn_core*"]', f"include = [{include}]"),
        "environment.yml": read["environment.yml"].replace("@@CONDA_DEPENDENCIES@@", conda),
    }


def source_version(root: Path) -> str:
    """The course's version: ``project.version`` of the source's pyproject.toml ("0.0.0" when
    it has none). For this repository it equals ``rnn_core.__version__`` (a test checks it)."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        return str(project.get("version", "0.0.0"))
    return "0.0.0"


def _package_files(root: Path, cfg: CourseConfig) -> list[Path]:
    files: list[Path] = []
    for pkg in cfg.packages:
        base = root / pkg
        if not base.is_dir():
            raise ReleaseError(f"release: package folder {pkg!r} not found in {root}")
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not _skipped(rel, cfg.exclude):
                files.append(rel)
    return files


def _extra_files(root: Path, cfg: CourseConfig) -> list[Path]:
    found: set[Path] = set()
    for pattern in cfg.extra_files:
        for p in root.glob(pattern):
            rel = p.relative_to(root)
            if p.is_file() and not _skipped(rel, cfg.exclude):
                found.add(rel)
    return sorted(found)


def _where_taught(names: set[str], notebooks: dict[str, Any]) -> dict[str, str]:
    """Exercise (function) name -> "see notebook NN_title": the first notebook naming it."""
    hints: dict[str, str] = {}
    for name in sorted(names):
        short = name.rsplit(".", 1)[-1]
        pat = re.compile(rf"\b{re.escape(short)}\b")
        for rel in sorted(notebooks):
            if any(pat.search(c.source) for c in notebooks[rel].cells):
                hints[name] = f"see notebook {Path(rel).stem}"
                break
    return hints


def _cell_split(cell: Any, where: str) -> tuple[set[str], set[str]]:
    """(secret candidates, public lines) of one notebook cell."""
    meta = cell.metadata.get("nbgrader", {})
    try:
        regions = find_regions(cell.source, where)
    except MarkerError as e:
        raise ReleaseError(str(e)) from e
    if meta.get("solution") and not any(r.kind == "solution" for r in regions):
        # a whole-cell answer (a written answer): every line but the directive is secret
        lines = [ln.strip() for ln in cell.source.split("\n")]
        body = [ln for ln in lines if ln and not ln.startswith(("# nbgrader:", "<!-- nbgrader:"))]
        return {ln for ln in body if len(ln) >= 6}, set()
    return split_lines(cell.source, where)


def course_secrets(source: str | Path, config: CourseConfig | None = None) -> set[str]:
    """Stripped lines of the source that only occur inside solution or hidden-test regions
    (or in whole-cell written answers): none of them may appear in a release."""
    root = Path(source)
    cfg = config or load_config(root)
    secret: set[str] = set()
    public: set[str] = set()
    for rel in cfg.notebook_paths(root):
        nb = read_notebook(root / rel, str(rel))
        for i, cell in enumerate(nb.cells):
            s, p = _cell_split(cell, f"{rel}: cell {i}")
            secret |= s
            public |= p
    for rel in _package_files(root, cfg):
        if rel.suffix == ".py":
            try:
                s, p = split_lines((root / rel).read_text(encoding="utf-8"), str(rel))
            except MarkerError as e:
                raise ReleaseError(str(e)) from e
            secret |= s
            public |= p
    return secret - public


def _release_lines(path: Path) -> set[str]:
    """Stripped lines of a release file; for a notebook, of its cell sources and text outputs."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    lines = {ln.strip() for ln in text.splitlines()}
    if path.suffix == ".ipynb":
        import json

        try:
            nb = json.loads(text)
        except json.JSONDecodeError:
            return lines
        for cell in nb.get("cells", []):
            for part in (
                cell.get("source", ""),
                *[o.get("text", "") for o in cell.get("outputs", [])],
            ):
                joined = part if isinstance(part, str) else "".join(part)
                lines |= {ln.strip() for ln in joined.splitlines()}
    return lines


def find_leaks(
    source: str | Path, out: str | Path, config: CourseConfig | None = None
) -> list[str]:
    """``"file: line"`` for every secret source line (:func:`course_secrets`) found in ``out``."""
    secrets = course_secrets(source, config)
    leaks = []
    out = Path(out)
    for p in sorted(out.rglob("*")):
        if p.is_file():
            for line in sorted(_release_lines(p) & secrets):
                leaks.append(f"{p.relative_to(out)}: {line}")
    return leaks


def release(
    source: str | Path,
    out: str | Path,
    config: CourseConfig | None = None,
    *,
    force: bool = False,
    zip_path: str | Path | None = None,
) -> ReleaseReport:
    """Write the student release of the course in ``source`` to the folder ``out``.

    Parameters
    ----------
    source : course source folder (notebooks with solutions, the reference package).
    out : release folder to create; it must not exist unless ``force`` (then it is replaced).
    config : which notebooks and packages; default ``load_config(source)``.
    force : replace an existing ``out``.
    zip_path : also write the release as this zip (what ``course.toml``'s ``release_url``
        publishes), files at its top level.

    Returns
    -------
    A :class:`ReleaseReport`.

    Raises
    ------
    ReleaseError
        Bad markers or nbgrader metadata, duplicate grade ids, or a solution line found in the
        release (the half-written release is removed).
    """
    import nbformat

    root = Path(source).resolve()
    dest = Path(out).resolve()
    cfg = config or load_config(root)
    if (
        dest == root
        or root in dest.parents
        and any(dest.is_relative_to(root / pkg) for pkg in cfg.packages)
    ):
        raise ReleaseError(f"release: out {dest} must not be the source or inside its packages")
    if dest.exists():
        if not force:
            raise ReleaseError(f"release: {dest} exists; pass force=True (--force) to replace it")
        shutil.rmtree(dest)
    report = ReleaseReport(out=dest, exercises=list_exercises(root, cfg))

    sources: dict[str, Any] = {}
    for rel in cfg.notebook_paths(root):
        sources[rel.as_posix()] = read_notebook(root / rel, str(rel))
    if not sources:
        raise ReleaseError(f"release: no notebook matches {cfg.notebooks} in {root}")
    by_name: dict[str, str] = {}
    for rel in sources:
        other = by_name.setdefault(release_name(rel), rel)
        if other != rel:
            raise ReleaseError(f"release: {rel} and {other} would both be {release_name(rel)}")
    for nb in sources.values():
        if len(nb.cells) > 1 and is_setup_cell(nb.cells[1]):
            nb.cells[1].source = setup_cell_source(cfg)

    pkg_files = _package_files(root, cfg)
    texts = {
        rel: (root / rel).read_text(encoding="utf-8") for rel in pkg_files if rel.suffix == ".py"
    }
    names: set[str] = set()
    for rel, text in texts.items():
        try:
            names |= {r.name for r in find_regions(text, str(rel)) if r.kind == "solution"}
        except MarkerError as e:
            raise ReleaseError(str(e)) from e
    hints = _where_taught(names - {""}, sources)

    shipped = {p.as_posix(): p.as_posix() for p in [*pkg_files, *_extra_files(root, cfg)]}
    shipped |= {rel: release_name(rel) for rel in sources}
    try:
        dest.mkdir(parents=True)
        for rel, nb in sources.items():
            student = student_version(nb, rel)
            relink(student, rel, shipped)
            nbformat.write(student, str(dest / release_name(rel)))
            report.notebooks.append(release_name(rel))
        for rel in pkg_files:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in texts:
                try:
                    new, regions = stub_regions(
                        texts[rel], str(rel), module=rel.as_posix(), see=hints
                    )
                except MarkerError as e:
                    raise ReleaseError(str(e)) from e
                target.write_text(new, encoding="utf-8")
                stubbed = [r.name or rel.stem for r in regions if r.kind == "solution"]
                if stubbed:
                    report.stubbed[rel.as_posix()] = stubbed
            else:
                shutil.copyfile(root / rel, target)
        rendered = student_files(root, cfg, sources)
        for rel in _extra_files(root, cfg):
            if rel.as_posix() in rendered:
                continue  # the student's README and pyproject are not the instructor's
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, dest / rel)
        for name, text in rendered.items():
            (dest / name).write_text(text, encoding="utf-8")
        leaks = find_leaks(root, dest, cfg)
        if leaks:
            raise ReleaseError(
                f"release: {len(leaks)} solution line(s) would ship, e.g. {leaks[0]!r}"
            )
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    files = sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file())
    report.files = len(files)
    report.version = source_version(root)
    if zip_path is not None:
        from rnn_core.submit import write_zip

        write_zip(dest, files, Path(zip_path))
    return report
