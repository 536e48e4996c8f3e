"""`chartcoder code --format html`: the evidence report rendered in headless
Chromium. For a few example charts: a screenshot is produced (a real PNG of the
window size, not a blank page), and the DOM Chromium builds holds
<mark class="ev"> elements exactly at the evidence words of the JSON output for
the same chart, the chart text unchanged around them, and one codes-table row
per assigned code, in rank order. Skipped only when chromium is not installed.
"""
import html.parser
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile

import pytest

from conftest import CHART_DIR, json_lines, run_cli

CHARTS = ["office_t2dm_ckd3b_htn", "office_ra_bka_breast_history",
          "discharge_hfpef_ckd4_aki", "snf_alzheimers_pressure_ulcers"]
WIDTH, HEIGHT = 1400, 2000


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (Debian package 'chromium'; CI installs it)")


def run_chromium(args, page):
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", f"--user-data-dir={profile}", *args, page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, timeout=180,
                              env={**os.environ, "HOME": profile})
    assert proc.returncode == 0, f"chromium failed: {proc.stderr.decode()[-2000:]}"
    return proc.stdout.decode("utf-8")


class ReportParser(html.parser.HTMLParser):
    """Collects the chart text of <pre class="chart"> (badges left out) with the
    character offset of each <mark>, and the rows of the codes table."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_pre = False
        self.text = []
        self.length = 0
        self.marks = []      # (class, data-codes, start char, end char)
        self.open_mark = None
        self.badge_depth = 0
        self.code_rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "pre" and "chart" in a.get("class", "").split():
            self.in_pre = True
        elif self.in_pre and tag == "mark":
            assert self.open_mark is None, "nested <mark>"
            self.open_mark = (a.get("class", ""), a.get("data-codes", ""), self.length)
        elif self.in_pre and tag == "span" and "badge" in a.get("class", "").split():
            self.badge_depth += 1
        elif tag == "tr" and "code-row" in a.get("class", "").split():
            self.code_rows.append(a["data-code"])

    def handle_endtag(self, tag):
        if tag == "pre" and self.in_pre:
            self.in_pre = False
        elif self.in_pre and tag == "mark":
            cls, codes, start = self.open_mark
            self.marks.append((cls, codes, start, self.length))
            self.open_mark = None
        elif self.in_pre and tag == "span" and self.badge_depth:
            self.badge_depth -= 1

    def handle_data(self, data):
        if self.in_pre and not self.badge_depth:
            self.text.append(data)
            self.length += len(data)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("html")
    paths = [CHART_DIR / f"{name}.txt" for name in CHARTS]
    run_cli(["code", "--format", "html", "--output", str(out_dir), *map(str, paths)],
            check_exit=0)
    _, out, _ = run_cli(["code", *map(str, paths)], check_exit=0)
    records = json_lines(out)
    pages = sorted(out_dir.glob("*.html"))
    assert [p.stem for p in pages] == sorted(f"{n}.txt" for n in CHARTS)
    return [(path, out_dir / f"{path.name}.html", rec) for path, rec in zip(paths, records)]


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_screenshot_is_produced(reports, tmp_path):
    for _, page, _ in reports[:2]:
        shot = tmp_path / f"{page.stem}.png"
        run_chromium([f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}"], page)
        data = shot.read_bytes()
        assert png_size(data) == (WIDTH, HEIGHT)
        # A rendered report (text, highlights, tables) compresses far worse than a blank page.
        assert len(data) > 50_000, f"{shot}: {len(data)} bytes, looks blank"
        if os.environ.get("CHARTCODER_KEEP_SCREENSHOTS"):
            shutil.copy(shot, pathlib.Path(os.environ["CHARTCODER_KEEP_SCREENSHOTS"]) / shot.name)


def test_dom_highlights_the_evidence(reports):
    for chart, page, record in reports:
        dom = run_chromium(["--dump-dom"], page)
        p = ReportParser()
        p.feed(dom)
        p.close()
        chart_bytes = chart.read_bytes()
        text = "".join(p.text)
        assert text == chart_bytes.decode("utf-8"), f"{chart.name}: chart text altered"

        def to_bytes(i):
            return len(text[:i].encode("utf-8"))

        # Every evidence word of every code, with the codes it supports.
        evidence = {}
        for code in record["codes"]:
            for ev in code["evidence"]:
                for b, e in ev["spans"]:
                    evidence.setdefault((b, e), set()).add(code["code"])
        ev_marks = [(to_bytes(s), to_bytes(e), codes) for cls, codes, s, e in p.marks
                    if cls == "ev"]
        assert ev_marks, f"{chart.name}: no highlighted evidence"
        for b, e, codes in ev_marks:
            assert (b, e) in evidence, f"{chart.name}: mark at [{b}, {e}) is not evidence"
            assert set(codes.split()) == evidence[(b, e)], chart.name
        # Each evidence word is highlighted unless it overlaps another highlighted one.
        marked = {(b, e) for b, e, _ in ev_marks}
        for (b, e) in evidence:
            overlaps = any(b < e2 and b2 < e and (b2, e2) != (b, e) for b2, e2 in evidence)
            assert overlaps or (b, e) in marked, f"{chart.name}: evidence [{b}, {e}) not marked"
        # Coded mentions beyond the evidence listed per code (the JSON's cap) are
        # marked "more"; each is a coded mention of the JSON that no listed evidence covers.
        coded = [(m["span"], m["code"]) for m in record["mentions"] if m["coded"]]
        for cls, codes, s, e in p.marks:
            if cls == "more":
                b, e = to_bytes(s), to_bytes(e)
                assert any(mb <= b and e <= me and codes == code for (mb, me), code in coded), \
                    f"{chart.name}: [{b}, {e}) is not in a coded mention"
                assert (b, e) not in evidence, chart.name
        # Uncoded mentions that were negated etc. carry their own classes.
        assert {cls for cls, *_ in p.marks} <= {"ev", "more", "neg", "unc", "hist", "fam", "hyp"}
        assert p.code_rows == [c["code"] for c in record["codes"]], chart.name
