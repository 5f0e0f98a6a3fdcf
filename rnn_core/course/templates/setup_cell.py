# Set-up: run this cell first. On Colab only, it installs the course library (the student
# release, which has no answers) and turns on widgets. Everywhere, rnn_core.setup() limits numpy
# to one BLAS thread, picks the plotting backend for figures and sliders and turns on autoreload:
# after you edit a file in rnn_core, the next cell you run uses your new code, no restart needed.
import sys

if "google.colab" in sys.modules:
    import subprocess

    COURSE, RELEASE = "/content/rnn-gradflow", "@@RELEASE_URL@@"
    subprocess.run(
        f"test -d {COURSE} || (curl -sSfL {RELEASE} -o /tmp/release.zip"
        f" && unzip -q /tmp/release.zip -d {COURSE}) && pip install -q -e {COURSE}",
        shell=True,
        check=True,
    )
    sys.path.insert(0, COURSE)
    from google.colab import output

    output.enable_custom_widget_manager()

import rnn_core

rnn_core.setup()
