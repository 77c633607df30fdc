"""The comparison's metrics table equals `stv eval` on the files `stv export` writes, for both runs
against the label set; without a label set it shows the runs' agreement."""
from __future__ import annotations

import json

import pytest

from compare_data import jobs_end, write_pair  # noqa: F401 (jobs_end: autouse fixture)
from engine.cli.main import main as stv
from stviewer.compare.table_view import format_value

KEYS = ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW")


def stv_eval_of_exports(cache, out, capsys) -> dict:
    """{run: stv eval --json summary} of each run against label set gt, through the exported files."""
    assert stv(["export", str(cache), "--labels", "gt", "--out", str(out / "gt"), "--name", "SEQ"]) == 0
    numbers = {}
    for run in ("A", "B"):
        assert stv(["export", str(cache), "--run", run, "--out", str(out / run), "--name", "SEQ"]) == 0
        capsys.readouterr()
        assert stv(["eval", "--gt", str(out / "gt" / "SEQ" / "gt" / "gt.txt"), "--pred",
                    str(out / run / "SEQ.txt"), "--json"]) == 0
        numbers[run] = json.loads(capsys.readouterr().out)
    return numbers


def summary_of(doc: dict) -> dict:
    """The per-sequence (or only) summary in `stv eval --json` output."""
    if "MOTA" in doc:
        return doc
    for value in doc.values():
        if isinstance(value, dict) and "MOTA" in value:
            return value
        if isinstance(value, list) and value and isinstance(value[0], dict) and "MOTA" in value[0]:
            return value[0]
    raise AssertionError(f"no metrics in {doc}")


def test_table_equals_stv_eval_on_exported_files(make_window, qtbot, clip, tmp_path, capsys):
    cache = write_pair(clip)
    expected = {run: summary_of(doc) for run, doc in stv_eval_of_exports(cache, tmp_path, capsys).items()}
    assert expected["A"]["IDSW"] == 1 and expected["B"]["FP"] == 3 and expected["B"]["FN"] == 5  # the known pair
    w = make_window()
    w.session.threaded = False
    w.compare_ui.session.threaded = False
    w.open_path(clip)
    w.compare_ui.compare("run:A", "run:B", labels="gt")
    qtbot.waitUntil(lambda: w.compare_ui.session.table != [])  # the table follows the comparison
    table = w.compare_ui.session.table
    assert [row["name"] for row in table] == ["A", "B"]
    for row in table:
        for key in KEYS:
            assert row[key] == pytest.approx(expected[row["name"]][key], abs=0, rel=0), (row["name"], key)
    view = w.compare_ui.table
    for i, row in enumerate(table):
        for key in KEYS:
            assert view.cell(i, key) == format_value(key, expected[row["name"]][key])
    assert "label set" in view.caption.text()


def test_table_without_labels_shows_agreement(make_window, qtbot, clip):
    write_pair(clip)
    w = make_window()
    w.session.threaded = False
    w.compare_ui.session.threaded = False
    w.open_path(clip)
    w.compare_ui.compare("run:A", "run:B")
    qtbot.waitUntil(lambda: w.compare_ui.session.table != [])
    (row,) = w.compare_ui.session.table
    # boxes: A has 80, B 80 - 5 + 3; matched 75
    assert row["box_agreement"] == pytest.approx(75 / (75 + 5 + 3))
    assert row["action_agreement"] == pytest.approx(1 - 3 / 40)
    assert w.compare_ui.table.cell(0, "box_agreement") == f"{75 / 83:.3f}"
    assert "no label set" in w.compare_ui.table.caption.text()
