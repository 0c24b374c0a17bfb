import json
import re

import numpy as np
from PIL import Image

from partlift.report.html import Report


def _build(tmp_path):
    img_dir = tmp_path / "images"
    img_dir.mkdir()
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(img_dir / "a.png")
    r = Report("Test <report>", tmp_path)
    r.heading("Results & more")
    rows = [["ours", 51.234], ["paper", float("nan")], ["none", None]]
    r.table(["method", "mIoU"], rows, caption="c", paper_rows=[1])
    r.gallery([[(img_dir / "a.png", "input <1>")]])
    rng = np.random.default_rng(0)
    r.point_cloud(rng.random((9000, 3)), rng.integers(0, 255, (9000, 3)), "cloud", legend=[("seat", (1, 2, 3))])
    return r.write()


def test_report_is_self_contained_and_escaped(tmp_path):
    page = _build(tmp_path).read_text()
    assert "Test &lt;report&gt;" in page and "input &lt;1&gt;" in page
    assert 'src="images/a.png"' in page  # relative link, opens from disk
    assert "51.2" in page and "n/a" in page and "&ndash;" in page
    assert not re.search(r"(src|href)=\"https?://", page)  # nothing fetched from the network
    payload = json.loads(re.search(r'<script type="application/json" id="plv1">(.*?)</script>', page).group(1))
    assert len(payload["points"]) == 6000 and len(payload["colors"]) == 6000  # subsampled to max_points
    assert 'class="paper"' in page
