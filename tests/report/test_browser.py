import re

import numpy as np
from PIL import Image

from browser import open_page
from partlift.report.html import Report


def test_viewer_draws_without_console_errors(tmp_path):
    rng = np.random.default_rng(0)
    r = Report("viewer", tmp_path)
    for k in range(2):
        r.point_cloud(rng.normal(size=(500, 3)), rng.integers(0, 200, (500, 3)), f"cloud {k}")
    load = open_page(r.write(), "report_builder.png")
    assert load.console == [], load.console
    drawn = re.findall(r'data-drawn="(\d+)"', load.dom)
    assert drawn == ["500", "500"], drawn
    img = np.asarray(Image.open(load.screenshot).convert("RGB"))
    assert (img < 200).any()  # something dark was painted (the points)


def test_broken_page_is_caught(tmp_path):
    # The harness itself must be able to fail: a page with an exception reports it.
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    load = open_page(page, "broken_page.png")
    assert any("undefinedFunction" in line for line in load.console)
