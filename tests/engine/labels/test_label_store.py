"""Label sets in the results cache: format 3 round trip, format 1 (N, 7) still loads, hostile groups."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
from labels_helpers import NUM_FRAMES, model_set

from engine.cache import CacheCorruptError, ResultsCache
from engine.cache.label_store import read_label_set, write_label_set
from engine.labels import edits as E
from engine.labels.journal import load, save
from engine.labels.model import BoxKind, LabelSet



def rich_set() -> LabelSet:
    ls = model_set()
    ls.class_names = {1: "pedestrian", 2: "cyclist"}
    ls.note = "checked by A."
    for edit, kw in ((E.set_box, dict(track_id=3, frame=10, box=[1.5, 2.25, 40, 60])),
                     (E.new_track, dict(frame=5, box=[0, 0, 10, 10], track_id=2**31 - 1, class_id=2)),
                     (E.add_box, dict(track_id=2**31 - 1, frame=25, box=[20, 0, 30, 10])),
                     (E.mark_outside, dict(track_id=2**31 - 1, frame=15)),
                     (E.set_visibility, dict(track_id=5, visibility=0.125, first=40, last=44)),
                     (E.set_consider, dict(track_id=9, consider=False))):
        edit(ls, **kw).apply(ls)
    return ls


def test_round_trip_keeps_everything(cache_path):
    ls = rich_set()
    with ResultsCache.open(cache_path, mode="a") as cache:
        save(cache, ls)
        assert cache.label_set_names == ["gt"]
    with ResultsCache.open(cache_path) as cache:
        back, _, _ = read_label_set(cache, "gt")
        assert back.equals(ls)
        t = back.track(2**31 - 1)
        assert t.outside.tolist() == [15] and t.class_id == 2
        assert set(np.concatenate([x.kinds for x in back.tracks()]).tolist()) == {0, 1, 2}
        info = cache.label_set_info("gt")
        assert info["rows"] == ls.num_boxes and info["source_run"] == "demo"


def test_save_replaces_and_empty_sets(cache_path):
    with ResultsCache.open(cache_path, mode="a") as cache:
        save(cache, rich_set())
        empty = LabelSet.empty(name="gt", num_frames=NUM_FRAMES, width=640, height=360)
        save(cache, empty)
        assert load(cache, "gt").equals(empty) and cache.load_label_set("gt").shape == (0, 7)
        with pytest.raises(ValueError, match="frames"):
            write_label_set(cache, LabelSet.empty(name="x", num_frames=7, width=6, height=6))


def test_old_n7_label_sets_still_load(cache_path):
    rows = np.array([[0, 4, 1, 2, 11, 22, 0.9], [1, 4, 2, 2, 12, 22, 0.8], [1, 6, 50, 50, 60, 70, 1.0]])
    with ResultsCache.open(cache_path, mode="a") as cache:
        cache.save_label_set("old", rows, source_run="r1", note="v1")
    with ResultsCache.open(cache_path) as cache:
        ls = load(cache, "old")
        assert ls.track_ids().tolist() == [4, 6] and ls.source_run == "r1" and ls.note == "v1"
        t = ls.track(4)
        np.testing.assert_array_equal(t.boxes, rows[:2, 2:6])
        assert (t.kinds == BoxKind.MODEL).all() and np.array_equal(t.model_boxes, t.boxes)
        np.testing.assert_array_equal(cache.load_label_set("old"), rows)
    with ResultsCache.open(cache_path, mode="a") as cache:  # an old set edited and saved becomes format 2
        E.set_box(ls, track_id=4, frame=0, box=[0, 0, 5, 5]).apply(ls)
        save(cache, ls)
        assert load(cache, "old").equals(ls)


def _write_group(path, name, **datasets_and_attrs):
    with h5py.File(path, "r+", libver="latest") as f:
        g = f["label_sets"].create_group(name)
        for k, v in datasets_and_attrs.items():
            if k.startswith("attr_"):
                g.attrs[k[5:]] = v
            else:
                g.create_dataset(k, data=v)


def _v2(**override):
    n = 3
    d = dict(tracks=np.array([[7, 1, 3]], np.int64), frames=np.array([0, 1, 2], np.int64),
             boxes=np.tile([0.0, 0, 10, 10], (n, 1)), model_boxes=np.full((n, 4), np.nan),
             kinds=np.zeros(n, np.uint8), visibility=np.ones(n), consider=np.ones(n, np.uint8),
             outside=np.zeros((0, 2), np.int64), attr_label_format=np.int64(2))
    d.update(override)
    return d


@pytest.mark.parametrize("group,match", [
    (_v2(), None),
    (_v2(boxes=np.array([[0, 0, 10, 10], [0, 0, np.nan, 10], [0, 0, 10, 10]])), "finite"),
    (_v2(frames=np.array([0, 1, NUM_FRAMES + 1000])), "frame out of range"),
    (_v2(frames=np.array([0, 2, 1])), "strictly increasing"),
    (_v2(tracks=np.array([[2**40, 1, 3]])), "track ID must be in"),
    (_v2(tracks=np.array([[0, 1, 3]])), "track ID must be in"),
    (_v2(tracks=np.array([[7, 1, 1], [7, 1, 3]])), "track IDs must be increasing"),
    (_v2(tracks=np.array([[7, 1, 10**12]])), "row ends"),
    (_v2(tracks=np.array([[7, 1, 2], [8, 1, 1]])), "row ends"),
    (_v2(tracks=np.array([[7, -5, 3]])), "class id"),
    (_v2(kinds=np.array([0, 9, 0], np.uint8)), "unknown box kind"),
    (_v2(kinds=np.array([0, 2, 0], np.uint8)), "MODEL row without a model box"),
    (_v2(visibility=np.array([1, 7.0, 1])), "visibility"),
    (_v2(frames=np.array([0, 1])), "different lengths"),
    (_v2(boxes=np.zeros((3, 5))), "shape"),
    (_v2(outside=np.array([[99, 5]])), "unknown track"),
    (_v2(outside=np.array([[7, 1]])), "also holds a box"),
    (_v2(attr_label_format=np.int64(4)), "label format 4"),
    (_v2(attr_class_names="[1, 2]"), "class_names"),
    ({"rows": np.array([[0, 1, 0, 0, 5, 5, 1], [0, 1, 0, 0, 5, 5, 1]])}, "two boxes in frame 0"),
    ({"rows": np.array([[0, 0, 0, 0, 5, 5, 1]])}, "track id"),
    ({"rows": np.array([[0.5, 1, 0, 0, 5, 5, 1]])}, "integers"),
    ({"rows": np.array([[1e12, 1, 0, 0, 5, 5, 1]])}, "frame"),
    ({"rows": np.array([[0, 1, 0, 0, np.inf, 5, 1]])}, "finite"),
    ({"rows": np.zeros((2, 5))}, "shape"),
])
def test_hostile_label_sets_are_refused_naming_the_file(cache_path, group, match):
    _write_group(cache_path, "evil", **group)
    with ResultsCache.open(cache_path) as cache:
        if match is None:
            assert read_label_set(cache, "evil")[0].track(7).frames.tolist() == [0, 1, 2]
            return
        with pytest.raises(CacheCorruptError, match=match) as info:
            read_label_set(cache, "evil")
        assert str(cache_path) in str(info.value) and "'evil'" in str(info.value)


def test_an_absurd_row_count_is_refused_before_reading(cache_path):
    with h5py.File(cache_path, "r+", libver="latest") as f:
        g = f["label_sets"].create_group("bomb")
        g.create_dataset("rows", shape=(10**11, 7), dtype=np.float64, chunks=(1024, 7), compression="gzip")
    with ResultsCache.open(cache_path) as cache:
        with pytest.raises(CacheCorruptError, match="claims 100000000000 rows") as info:
            read_label_set(cache, "bomb")
        assert str(cache_path) in str(info.value)
