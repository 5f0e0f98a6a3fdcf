"""Build the static book: every course notebook executed, rendered to HTML, safe by default.

    python -m book.build [--out build/book] [--solutions] [--jobs 2]

Stages (each a small function below, run in this order by :func:`build`):

1. **execute** the *source* notebooks (reference Layer A) with nbclient, ``RNN_PLOTS=inline`` so
   every figure and every explorer's static picture is a PNG in the outputs;
2. **clear** (default): each executed cell is compared with the student release's version of it
   (:func:`rnn_core.course.release.student_version`, nbgrader's own preprocessors on the course's
   markers); a cell the release changes (a solution region stubbed, a hidden test removed, a written
   answer cleared) takes the release's source and loses its outputs. ``--solutions`` skips this
   (instructors only);
3. **render** with nbconvert and the template in ``book/template`` (image alt text from the output
   metadata, prev/next navigation, a local MathJax, no script from the network);
4. **landing page** (``index.html``): what the course is, the contents with each notebook's time,
   how to start locally and on Colab;
5. **check**: every ``<img>`` has an alt text that is neither empty nor nbconvert's placeholder,
   and no two images share one; without ``--solutions``, the release's leak check
   (:func:`rnn_core.course.release.find_leaks`) over the text of every page.

Any failed check stops the build with a message naming the page. Output goes to ``build/book``
(not committed); docs/publishing.md says how to publish it.
"""

from __future__ import annotations

import argparse
import copy
import functools
import html
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATES = HERE / "template"
MATHJAX = HERE / "node_modules" / "mathjax" / "es5"
PLACEHOLDER_ALT = "No description has been provided for this image"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class BookError(RuntimeError):
    """The book cannot be built, or a built page fails a check."""


# -- 1. execute --------------------------------------------------------------------------------


def execute(path: Path, timeout: int = 600) -> Any:
    """Run one notebook top to bottom in a fresh kernel, in its own folder; returns the notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except Exception as e:  # noqa: BLE001 - one line naming the notebook, whatever failed
        first = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise BookError(f"{path.name}: execution failed: {first}") from None
    return nb


def _execute_all(paths: list[Path], jobs: int) -> list[Any]:
    os.environ["RNN_PLOTS"] = "inline"  # kernels inherit it: figures and explorers as PNGs
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if jobs <= 1:
        return [execute(p) for p in paths]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(execute, paths))


# -- 2. clear ----------------------------------------------------------------------------------


def clear_solutions(executed: Any, source: Any, where: str) -> int:
    """Give ``executed`` the release's version of every cell the release changes, without outputs.

    ``source`` is the notebook as read from disk (before execution). Returns how many cells were
    cleared.
    """
    from rnn_core.course.release import student_version

    student = student_version(copy.deepcopy(source), where)
    if len(student.cells) != len(executed.cells):
        raise BookError(f"{where}: the release has {len(student.cells)} cells, the source "
                        f"{len(executed.cells)}; cannot match them")
    cleared = 0
    for cell, released in zip(executed.cells, student.cells, strict=True):
        if cell.source != released.source:
            cell.source = released.source
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
            cleared += 1
    return cleared


# -- 3. render ---------------------------------------------------------------------------------


def title_and_time(nb: Any, name: str = "notebook") -> tuple[str, str]:
    """(title, time) of a notebook, read as the release reads them (its first cell)."""
    from rnn_core.course.release import _title_and_time

    return _title_and_time(nb, name)


_LINK = re.compile(r'<a href="(?P<href>[^"]*)"(?P<rest>[^>]*)>(?P<text>.*?)</a>', re.S)


def relink(page: str, names: set[str]) -> str:
    """Links between notebooks go to their pages; a relative link to any other file (the library's
    exercise files, which hold solutions in the source) becomes its plain text."""

    def fix(m: re.Match) -> str:
        href = m.group("href")
        if "://" in href or href.startswith(("#", "mailto:")):
            return m.group(0)
        target, hash_, anchor = href.partition("#")
        stem = Path(target).name.removesuffix(".ipynb").removesuffix(".html")
        if stem in names:
            return f'<a href="{stem}.html{hash_}{anchor}"{m.group("rest")}>{m.group("text")}</a>'
        return m.group("text")

    return _LINK.sub(fix, page)


def render(nb: Any, name: str, nav: dict[str, Any]) -> str:
    """HTML of one executed notebook with the book's template."""
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # no saved widget state: explorers fall back to their PNG
    nb.metadata["title"] = nav["title"]
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)], template_name="rnnbook",
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}, "book": nav})
    return body


# -- 4. landing page ---------------------------------------------------------------------------


def landing(entries: list[dict[str, str]], solutions: bool) -> str:
    """The book's ``index.html`` from ``book/template/landing.html.j2``."""
    import jinja2

    from rnn_core.course.config import load_config

    cfg = load_config(ROOT)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, keep_trailing_newline=True
    )
    return env.get_template("landing.html.j2").render(
        entries=entries, colab_url=cfg.colab_url, solutions=solutions
    )


# -- 5. checks ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Text (for the leak check), images and links of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "img":
            self.images.append(a)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


@functools.lru_cache(maxsize=32)
def parse_page(text: str) -> _Page:
    """The parsed page (cached: every check reads the same pages)."""
    page = _Page()
    page.feed(text)
    page.close()
    return page


def check_alt_texts(pages: dict[str, str]) -> list[str]:
    """Problems with image alt texts: missing, empty, nbconvert's placeholder, or shared."""
    problems = []
    seen: dict[str, str] = {}
    for name, text in pages.items():
        for i, img in enumerate(parse_page(text).images, 1):
            alt = " ".join((img.get("alt") or "").split())
            if not alt or alt == PLACEHOLDER_ALT:
                problems.append(f"{name}: image {i} has no alt text")
            elif alt in seen:
                problems.append(f"{name}: image {i} has the same alt text as {seen[alt]}")
            else:
                seen[alt] = f"{name} image {i}"
    return problems


def check_links(pages: dict[str, str], out: Path) -> list[str]:
    """Internal links (relative hrefs) that point to no file or no anchor."""
    problems = []
    parsed = {name: parse_page(text) for name, text in pages.items()}
    for name, page in parsed.items():
        for href in page.links:
            if "://" in href or href.startswith(("mailto:", "//")):
                continue
            target, _, anchor = href.partition("#")
            target = target or name
            if not (out / target).is_file():
                problems.append(f"{name}: link to {href!r}: no such file")
            elif anchor and target in parsed and html.unescape(anchor) not in parsed[target].ids:
                problems.append(f"{name}: link to {href!r}: no such anchor")
    return problems


def check_leaks(pages: dict[str, str]) -> list[str]:
    """The release's leak check over the visible text of every page."""
    from rnn_core.course.release import find_leaks

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in pages.items():
            Path(tmp, name + ".txt").write_text("".join(parse_page(text).text), encoding="utf-8")
        return find_leaks(ROOT, tmp)


# -- the pipeline ------------------------------------------------------------------------------


def build(out: Path, solutions: bool = False, jobs: int = 2) -> dict[str, Any]:
    """Build the book into ``out``; returns a summary (pages, images, cleared cells, seconds)."""
    import nbformat

    from rnn_core.course.config import load_config

    if not (MATHJAX / "tex-chtml-full.js").is_file():
        raise BookError(f"no local MathJax at {MATHJAX}: run 'npm ci --prefix book' first")
    t0 = time.perf_counter()
    cfg = load_config(ROOT)
    paths = [ROOT / rel for rel in cfg.notebook_paths(ROOT)]
    sources = [nbformat.read(str(p), as_version=4) for p in paths]
    executed = _execute_all(paths, jobs)
    t_exec = time.perf_counter() - t0
    cleared = 0
    if not solutions:
        for p, nb, src in zip(paths, executed, sources, strict=True):
            cleared += clear_solutions(nb, src, p.name)
    names = [p.stem for p in paths]
    entries = []
    for nb, name in zip(executed, names, strict=True):
        title, minutes = title_and_time(nb, f"{name}.ipynb")
        entries.append({"name": name, "href": f"{name}.html", "title": title or name,
                        "time": minutes, "file": f"{name}.ipynb"})
    pages: dict[str, str] = {}
    for i, (nb, entry) in enumerate(zip(executed, entries, strict=True)):
        nav = {"title": entry["title"], "index": "index.html", "solutions": solutions,
               "prev": entries[i - 1] if i > 0 else None,
               "next": entries[i + 1] if i + 1 < len(entries) else None}
        pages[entry["href"]] = relink(render(nb, entry["name"], nav), set(names))
    pages["index.html"] = landing(entries, solutions)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    shutil.copytree(MATHJAX, out / "mathjax",
                    ignore=shutil.ignore_patterns("*svg*", "mml-*", "tex-mml-*", "node-main.js",
                                                  "tex-chtml.js", "tex-chtml-full-speech.js"))
    shutil.copy(TEMPLATES / "book.css", out / "book.css")
    problems = check_alt_texts(pages) + check_links(pages, out)
    if not solutions:
        problems += [f"leak: {x}" for x in check_leaks(pages)]
    if problems:
        raise BookError(f"{len(problems)} problem(s) in {out}:\n  " + "\n  ".join(problems))
    images = sum(len(parse_page(t).images) for t in pages.values())
    return {"pages": len(pages), "images": images, "cleared_cells": cleared,
            "execute_seconds": round(t_exec, 1), "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m book.build", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "book"), help="output folder")
    ap.add_argument("--solutions", action="store_true",
                    help="keep solutions and hidden tests (instructors only: never publish this)")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks executed at once")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error(f"--jobs must be a positive int, got {args.jobs}")
    try:
        summary = build(Path(args.out), solutions=args.solutions, jobs=args.jobs)
    except BookError as e:
        print(f"book: {e}", file=sys.stderr)
        return 1
    print("book: " + ", ".join(f"{k} {v}" for k, v in summary.items()) + f" -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
