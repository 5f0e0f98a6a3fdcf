"""The static book (issue 18): palette under colour-vision deficiencies, alt texts, the builder's
safety (solutions cleared, leaks caught) and its checks. The browser checks of the built book are
in tests/book/book_browser.py (make book-check)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "book"))

import colour  # noqa: E402

from book import build as book  # noqa: E402
from rnn_core import style  # noqa: E402

DEFICIENCIES = ("protanopia", "deuteranopia", "tritanopia")
MIN_DELTA_E = 10.0
"""CIEDE2000 difference every pair of series colours keeps under each simulated deficiency:
well above the 2-3 units of a just-noticeable difference, so lines stay apart at a glance."""


# -- colour ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal (2005), Table 1, pairs 1, 7, 17 and 25
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ],
)
def test_ciede2000_matches_published_pairs(lab1, lab2, expected):
    assert colour.ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)


def test_matplotlib_default_colours_fail_the_check():
    # the check must be able to fail: matplotlib's default C0-C3 (tab:blue, orange, green, red),
    # far apart for normal vision, bring green and red close under simulated deuteranopia
    tab = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    assert colour.min_difference(tab, None)[0] > 20
    worst, pair = colour.min_difference(tab, "deuteranopia")
    assert worst < MIN_DELTA_E and set(pair) == {"#2ca02c", "#d62728"}


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_palette_stays_distinguishable(deficiency):
    worst, pair = colour.min_difference(list(style.PALETTE), deficiency)
    assert worst > MIN_DELTA_E, f"{deficiency}: {pair} only {worst:.1f} apart"


def test_install_sets_palette_and_a_dash_per_colour():
    import matplotlib as mpl

    with mpl.rc_context():  # leave other tests matplotlib's defaults
        style.install()
        cycle = mpl.rcParams["axes.prop_cycle"].by_key()
    assert [c.upper() for c in cycle["color"]] == [c.upper() for c in style.PALETTE]
    assert len(set(map(str, cycle["linestyle"]))) == len(style.PALETTE)  # a second channel


# -- alt text ----------------------------------------------------------------------------------


def test_describe_stores_alt_and_rejects_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    try:
        assert style.alt_metadata(fig) == {}
        style.describe(fig, "Loss against step:   it falls\n quickly")
        assert style.alt_text(fig) == "Loss against step: it falls quickly"
        assert style.alt_metadata(fig) == {"image/png": {"alt": style.alt_text(fig)}}
        with pytest.raises(ValueError, match="alt must be a sentence"):
            style.describe(fig, "loss")
        with pytest.raises(ValueError, match="fig must be a matplotlib Figure"):
            style.describe("not a figure", "Loss against step: it falls quickly")
    finally:
        plt.close(fig)


def test_formatter_publishes_alt_with_the_png():
    import matplotlib as mpl
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib.figure import Figure

    shell = InteractiveShell.instance()
    saved = mpl.rcParams["axes.prop_cycle"]
    try:
        select_figure_formats(shell, {"png"})  # what the inline backend registers
        style.install(shell)
        style.install(shell)  # twice: still one wrapper
        fig = Figure()
        fig.subplots().plot([1, 2, 3])
        data, md = shell.display_formatter.format(fig)
        assert "image/png" in data and "image/png" not in md  # no alt given: none invented
        style.describe(fig, "A rising line against its index, for the formatter test")
        data, md = shell.display_formatter.format(fig)
        assert md["image/png"] == {"alt": "A rising line against its index, for the formatter test"}
        assert data["image/png"]
        png = shell.display_formatter.formatters["image/png"].lookup_by_type(Figure)
        assert not hasattr(png.wraps, "wraps")
    finally:
        # a shell left behind would make later tests' rnn_core.setup() think it runs in IPython
        InteractiveShell.clear_instance()
        mpl.rcParams["axes.prop_cycle"] = saved


def _show_calls() -> list[tuple[str, int, str]]:
    """(notebook, cell, alt) of every rnn_core.style.show call in the notebooks' code cells."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            for node in ast.walk(ast.parse(src)):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "show" and ast.unparse(node.func.value) ==
                        "rnn_core.style"):
                    alt = node.args[1]
                    text = alt.value if isinstance(alt, ast.Constant) else ast.unparse(alt)
                    found.append((path.name, i, text))
    return found


def test_every_notebook_figure_is_shown_with_its_own_alt_text():
    bare = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            src = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            if "plt.show()" in src:
                bare.append(f"{path.name} cell {i}")
    assert not bare, f"figures shown without alt text (use rnn_core.style.show): {bare}"
    calls = _show_calls()
    assert len(calls) >= 40
    texts = [t for _, _, t in calls]
    dupes = {t for t in texts if texts.count(t) > 1}
    assert not dupes, f"alt texts used twice: {dupes}"
    for name, i, text in calls:
        assert len(text) >= 80, f"{name} cell {i}: say what is plotted against what, what to see"


# -- the builder's stages ----------------------------------------------------------------------


def _page(*imgs: str, links: str = "") -> str:
    return "<html><body><main id='content'>" + "".join(imgs) + links + "</main></body></html>"


def test_alt_check_flags_missing_placeholder_and_shared_texts():
    good = '<img src="a.png" alt="Loss against step, falling">'
    pages = {
        "a.html": _page(good, '<img src="b.png">'),
        "b.html": _page(f'<img src="c.png" alt="{book.PLACEHOLDER_ALT}">', good),
    }
    problems = book.check_alt_texts(pages)
    assert problems == [
        "a.html: image 2 has no alt text",
        "b.html: image 1 has no alt text",
        "b.html: image 2 has the same alt text as a.html image 1",
    ]
    assert book.check_alt_texts({"a.html": _page(good)}) == []


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    pages = {"a.html": _page(links='<a href="b.html#x">b</a><a href="c.html">c</a>'
                             '<a href="#content">top</a><a href="https://x.org">out</a>'),
             "b.html": _page(links='<span id="y"></span>')}
    for name, text in pages.items():
        (tmp_path / name).write_text(text)
    assert book.check_links(pages, tmp_path) == [
        "a.html: link to 'b.html#x': no such anchor",
        "a.html: link to 'c.html': no such file",
    ]


def _answer_notebook():
    import nbformat

    from rnn_core.course.markers import mark_cell

    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# 99 · A test notebook")
    answer = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x * 4321\n    ### END SOLUTION\nprint(f(1))")
    mark_cell(answer, "answer", "ans_f")
    plain = nbformat.v4.new_code_cell("print('public')")
    nb.cells = [title, answer, plain]
    return nb


def test_clear_solutions_stubs_answers_and_drops_their_outputs():
    import copy

    import nbformat

    source = _answer_notebook()
    executed = copy.deepcopy(source)
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", text="4321\n")]
    executed.cells[1].execution_count = 1
    executed.cells[2].outputs = [nbformat.v4.new_output("stream", text="public\n")]
    assert book.clear_solutions(executed, source, "99_test.ipynb") == 1
    assert "x * 4321" not in executed.cells[1].source
    assert "NotImplementedError" in executed.cells[1].source
    assert executed.cells[1].outputs == [] and executed.cells[1].execution_count is None
    assert executed.cells[2].outputs[0]["text"] == "public\n"  # untouched cells keep outputs


def test_leak_check_catches_a_solution_line_in_a_page():
    from rnn_core.course.release import course_secrets

    secret = sorted(course_secrets(book.ROOT))[0]
    clean = _page('<img alt="Loss against step, falling" src="a.png">')
    assert book.check_leaks({"a.html": clean}) == []
    import html

    leaky = _page(f"<pre><span>{html.escape(secret)}</span>\n</pre>")
    assert book.check_leaks({"a.html": leaky}) == [f"a.html.txt: {secret}"]


# -- the built book (after make book) -----------------------------------------------------------


BUILT = ROOT / "build" / "book"


@pytest.mark.skipif(not (BUILT / "index.html").is_file(), reason="run make book first")
def test_built_book_has_alt_texts_links_and_no_network_scripts():
    pages = {p.name: p.read_text(encoding="utf-8") for p in BUILT.glob("*.html")}
    assert len(pages) == 11
    assert book.check_alt_texts(pages) == []
    assert book.check_links(pages, BUILT) == []
    for name, text in pages.items():
        assert "cdnjs" not in text and "unpkg" not in text and "require.min.js" not in text, name


def test_instructor_pages_say_so_and_landing_lists_every_notebook():
    import nbformat

    nb = _answer_notebook()
    nav = {"title": "99 · A test notebook", "index": "index.html", "prev": None, "next": None}
    public = book.render(nb, "99_test", {**nav, "solutions": False})
    instructor = book.render(nb, "99_test", {**nav, "solutions": True})
    assert "Instructor copy" in instructor and "Instructor copy" not in public
    assert "cdnjs" not in public and 'src="mathjax/tex-chtml-full.js"' in public
    entries = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        title, minutes = book.title_and_time(nbformat.read(str(path), as_version=4))
        assert title and minutes, f"{path.name}: no title or time for the contents"
        entries.append({"name": path.stem, "href": f"{path.stem}.html", "title": title,
                        "time": minutes, "file": path.name})
    page = book.landing(entries, solutions=False)
    assert len(entries) == 10 and all(f'href="{e["href"]}"' in page for e in entries)
    assert all(e["time"] in page for e in entries) and "make lab" in page
