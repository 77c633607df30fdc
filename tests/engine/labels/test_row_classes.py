"""Per-row classes (MOT gt column 8 may change along a track: distractor 8 while the actor is mostly out of
view): the model, edits and undo, interpolation, cache format 3 (and formats 1 and 2 still read), the
journal (entries of the first format still replay)."""
from __future__ import annotations

import json
import struct
import zlib

import h5py
import numpy as np
import pytest
from labels_helpers import CACHE_FP, NUM_FRAMES, do, model_set

from engine.cache import CacheCorruptError, ResultsCache
from engine.cache.label_store import LABEL_FORMAT, read_label_set
from engine.labels import edits as E
from engine.labels.journal import MAGIC, LabelJournal, decode_states, encode_states, journal_path_for, load, save
from engine.labels.model import (COL_CLASS, COL_FRAME, COL_ID, BoxKind, LabelSet, Track,
                                 most_frequent_class)



def mixed_set() -> LabelSet:
    """model_set with track 3 a distractor (8) in frames 0..4 and 55..59, class 1 between."""
    ls = model_set()
    E.set_class(ls, track_id=3, class_id=8, first=0, last=4).apply(ls)
    E.set_class(ls, track_id=3, class_id=8, first=55, last=59).apply(ls)
    return ls


def expected_track3() -> np.ndarray:
    f = np.arange(60)
    return np.where((f <= 4) | (f >= 55), 8, 1)


# ---------------------------------------------------------------------------- model


def test_ranged_set_class_changes_only_those_rows_and_undoes_exactly():
    ls = model_set()
    before = ls.track(3)
    change = do(ls, E.set_class, track_id=3, class_id=8, first=10, last=12)
    t = ls.track(3)
    assert t.class_id == 1 and not t.single_class
    assert np.flatnonzero(t.classes == 8).tolist() == [10, 11, 12]
    assert np.array_equal(t.boxes, before.boxes) and np.array_equal(t.kinds, before.kinds)
    change.revert(ls)
    assert ls.track(3) is before and ls.track(3).single_class
    change.apply(ls)
    assert "frames 10..12" in change.description
    with pytest.raises(ValueError, match="already has class 8 in frames 10..12"):
        E.set_class(ls, track_id=3, class_id=8, first=10, last=12)
    with pytest.raises(ValueError, match="no box in frames"):
        E.set_class(ls, track_id=9, class_id=8, first=0, last=10)
    with pytest.raises(ValueError, match="before first frame"):
        E.set_class(ls, track_id=3, class_id=8, first=12, last=10)


def test_whole_track_set_class_sets_every_row_and_the_default():
    ls = mixed_set()
    do(ls, E.set_class, track_id=3, class_id=1)  # mixed -> uniform, though the default already was 1
    assert ls.track(3).single_class and ls.track(3).class_id == 1
    with pytest.raises(ValueError, match="already has class 1"):
        E.set_class(ls, track_id=3, class_id=1)
    do(ls, E.set_class, track_id=3, class_id=8, first=0, last=59)  # a range covering every row
    assert ls.track(3).class_id == 8 and ls.track(3).single_class


def test_rows_table_and_frame_boxes_carry_the_row_class():
    ls = mixed_set()
    rows = ls.to_rows(include_outside=True)
    r3 = rows[rows[:, COL_ID] == 3]
    assert np.array_equal(r3[:, COL_CLASS], expected_track3())
    assert ls.frame_boxes(2).classes.tolist() == [8] and ls.frame_boxes(30).classes.tolist() == [1, 5 - 4]
    back = LabelSet.from_rows(rows, name="gt", num_frames=NUM_FRAMES, width=640, height=360)
    assert np.array_equal(back.track(3).classes, expected_track3()) and back.track(3).class_id == 1


def test_default_class_from_rows_is_the_most_frequent_then_the_smallest():
    assert most_frequent_class([1, 8, 8, 2, 2, 5, 5], [3, 7]).tolist() == [8, 2]
    assert most_frequent_class(np.zeros(0), np.zeros(0)).tolist() == []
    rows = np.zeros((3, 11))
    rows[:, COL_FRAME] = [0, 1, 2]
    rows[:, COL_ID] = 4
    rows[:, 2:6] = [0, 0, 5, 5]
    rows[:, 6] = BoxKind.MODEL
    rows[:, 7] = 1
    rows[:, 8] = 1
    rows[:, COL_CLASS] = [8, 1, 1]
    t = LabelSet.from_rows(rows, name="x", num_frames=5, width=9, height=9).track(4)
    assert t.class_id == 1 and t.classes.tolist() == [8, 1, 1]
    rows[1, COL_CLASS] = 0
    with pytest.raises(ValueError, match="class 0 outside"):
        LabelSet.from_rows(rows, name="x", num_frames=5, width=9, height=9)


def test_track_build_checks_row_classes_and_replace_keeps_old_callers_working():
    ok = dict(track_id=2, frames=[0, 1], boxes=[[0, 0, 1, 1]] * 2, kinds=[0, 0])
    assert Track.build(**ok, class_id=3).classes.tolist() == [3, 3]
    with pytest.raises(ValueError, match="row class must be in"):
        Track.build(**ok, classes=[1, 0])
    with pytest.raises(ValueError, match="column lengths differ"):
        Track.build(**ok, classes=[1])
    t = Track.build(**ok, class_id=1)
    assert t.replace(class_id=5).classes.tolist() == [5, 5]  # single-class: the rows follow
    mixed = t.replace(classes=[1, 8])
    assert mixed.replace(class_id=5).classes.tolist() == [1, 8]  # mixed: only the default changes
    with pytest.raises(ValueError, match="needs their classes too"):
        mixed.replace(frames=[0], boxes=[[0, 0, 1, 1]], kinds=[0])
    assert not mixed.same_as(t) and "rows of classes [1, 8]" in repr(mixed)


# ---------------------------------------------------------------------------- edits


def test_new_boxes_take_the_neighbouring_row_class():
    ls = LabelSet.empty(name="x", num_frames=40, width=100, height=100)
    E.new_track(ls, frame=0, box=[0, 0, 10, 10], track_id=1).apply(ls)
    E.add_box(ls, track_id=1, frame=10, box=[10, 0, 20, 10]).apply(ls)  # 1..9 interpolated
    E.set_class(ls, track_id=1, class_id=8, first=0, last=0).apply(ls)
    do(ls, E.add_box, track_id=1, frame=20, box=[20, 0, 30, 10])  # after frame 10 (class 1)
    t = ls.track(1)
    assert t.classes[t.row(20)] == 1 and t.classes[t.row(15)] == 1  # interpolated 11..19 from keyframe 10
    assert t.classes[t.row(0)] == 8 and t.classes[t.row(5)] == 1    # kept rows keep their class
    E.set_class(ls, track_id=1, class_id=8, first=20, last=20).apply(ls)
    E.mark_outside(ls, track_id=1, frame=21).apply(ls)
    do(ls, E.add_box, track_id=1, frame=30, box=[0, 0, 5, 5])  # across the marker: the default
    t = ls.track(1)
    assert t.classes[t.row(30)] == t.class_id == 1


def test_interpolated_rows_take_the_previous_keyframe_class_and_keep_a_ranged_edit():
    ls = LabelSet.empty(name="x", num_frames=40, width=100, height=100)
    E.new_track(ls, frame=0, box=[0, 0, 10, 10], track_id=1, class_id=8).apply(ls)
    E.add_box(ls, track_id=1, frame=10, box=[10, 0, 20, 10]).apply(ls)
    E.set_class(ls, track_id=1, class_id=2, first=10, last=10).apply(ls)
    t = ls.track(1)
    assert t.classes.tolist() == [8] * 10 + [2]
    E.set_class(ls, track_id=1, class_id=5, first=3, last=4).apply(ls)
    E.set_box(ls, track_id=1, frame=10, box=[12, 0, 22, 10]).apply(ls)  # re-derives 1..9
    t = ls.track(1)
    assert t.boxes[5, 0] == pytest.approx(6.0)  # really re-interpolated
    assert t.classes.tolist() == [8, 8, 8, 5, 5] + [8] * 5 + [2]


def test_split_merge_swap_move_rows_with_their_classes():
    ls = mixed_set()
    do(ls, E.split_track, track_id=3, frame=50, new_id=20)
    left, right = ls.track(3), ls.track(20)
    assert np.array_equal(np.r_[left.classes, right.classes], expected_track3())
    assert right.class_id == 1 and left.class_id == 1
    do(ls, E.merge_tracks, keep_id=3, other_id=20)
    assert np.array_equal(ls.track(3).classes, expected_track3())
    do(ls, E.swap_ids, id_a=3, id_b=9, frame=55)
    assert ls.track(9).classes[ls.track(9).frames >= 55].tolist() == [8] * 5
    # track 9 (70..119) had no box before 55: it is now only 3's last five rows, all distractor, so
    # that is its default; track 3 took 9's rows (class 1)
    assert ls.track(9).class_id == 8 and ls.track(3).classes.tolist() == [8] * 5 + [1] * 100
    # a part whose rows are all one class gets it as its default
    ls = mixed_set()
    E.split_track(ls, track_id=3, frame=55, new_id=21).apply(ls)
    assert ls.track(21).class_id == 8 and ls.track(21).single_class


def test_delete_and_keyframe_edits_keep_the_other_rows_classes():
    ls = mixed_set()
    do(ls, E.delete_frames, track_id=3, first=20, last=30)
    t = ls.track(3)
    assert np.array_equal(t.classes, expected_track3()[np.r_[0:20, 31:60]])
    do(ls, E.set_box, track_id=3, frame=2, box=[0, 0, 30, 30])
    assert ls.track(3).classes[2] == 8
    do(ls, E.set_keyframe, track_id=3, frame=2, keyframe=False)
    assert ls.track(3).classes[2] == 8


# ---------------------------------------------------------------------------- cache


def test_row_classes_survive_cache_save_and_load(cache_path):
    ls = mixed_set()
    with ResultsCache.open(cache_path, mode="a") as cache:
        save(cache, ls)
    with ResultsCache.open(cache_path) as cache:
        back = load(cache, "gt")
        assert back.equals(ls) and np.array_equal(back.track(3).classes, expected_track3())
        assert int(cache.h5["label_sets"]["gt"].attrs["label_format"]) == LABEL_FORMAT == 3


def _format2_group(path, name, class_id):
    """A label set exactly as format 2 wrote it (no per-row classes)."""
    with h5py.File(path, "r+", libver="latest") as f:
        g = f["label_sets"].create_group(name)
        n = 3
        for k, v in dict(tracks=np.array([[7, class_id, 3]], np.int64), frames=np.array([0, 1, 2], np.int64),
                         boxes=np.tile([0.0, 0, 10, 10], (n, 1)), model_boxes=np.full((n, 4), np.nan),
                         kinds=np.zeros(n, np.uint8), visibility=np.ones(n), consider=np.ones(n, np.uint8),
                         outside=np.array([[7, 5]], np.int64)).items():
            g.create_dataset(k, data=v)
        g.attrs["label_format"] = np.int64(2)


def test_format_2_and_format_1_sets_still_load_and_resave_as_format_3(cache_path):
    _format2_group(cache_path, "old2", 4)
    with ResultsCache.open(cache_path, mode="a") as cache:
        cache.save_label_set("old1", np.array([[0, 4, 1, 2, 11, 22, 0.9], [1, 4, 2, 2, 12, 22, 0.8]]))
    with ResultsCache.open(cache_path, mode="a") as cache:
        old2 = read_label_set(cache, "old2")[0]
        assert old2.track(7).class_id == 4 and old2.track(7).classes.tolist() == [4, 4, 4]
        assert old2.track(7).outside.tolist() == [5]
        old1 = read_label_set(cache, "old1")[0]
        assert old1.track(4).classes.tolist() == [1, 1]
        E.set_class(old2, track_id=7, class_id=8, first=2, last=2).apply(old2)
        save(cache, old2)
        assert read_label_set(cache, "old2")[0].equals(old2)


@pytest.mark.parametrize("classes,match", [
    (np.array([1, 0, 1]), "row class must be in"),
    (np.array([1, 1]), "different lengths"),
    (np.array([[1, 1, 1]]), "shape"),
])
def test_hostile_row_classes_are_refused_naming_the_file(cache_path, classes, match):
    _format2_group(cache_path, "evil", 1)
    with h5py.File(cache_path, "r+", libver="latest") as f:
        g = f["label_sets"]["evil"]
        g.create_dataset("classes", data=classes)
        g.attrs["label_format"] = np.int64(3)
    with ResultsCache.open(cache_path) as cache:
        with pytest.raises(CacheCorruptError, match=match) as info:
            read_label_set(cache, "evil")
        assert str(cache_path) in str(info.value)


def test_format_3_without_classes_is_refused(cache_path):
    _format2_group(cache_path, "evil", 1)
    with h5py.File(cache_path, "r+", libver="latest") as f:
        f["label_sets"]["evil"].attrs["label_format"] = np.int64(3)
    with ResultsCache.open(cache_path) as cache, pytest.raises(CacheCorruptError, match="'classes' missing"):
        read_label_set(cache, "evil")


# ---------------------------------------------------------------------------- journal


def _first_format_entry(t: Track) -> bytes:
    """A journal entry as the first journals wrote it (no row_classes key, no class array)."""
    head = json.dumps({"meta": None, "tracks": [{"id": t.track_id, "class": t.class_id, "n": len(t),
                                                  "m": len(t.outside)}]}).encode()
    body = b"".join([t.frames.astype("<i8").tobytes(), t.boxes.astype("<f8").tobytes(),
                     t.model_boxes.astype("<f8").tobytes(), t.kinds.astype("u1").tobytes(),
                     t.visibility.astype("<f8").tobytes(), t.consider.astype("u1").tobytes(),
                     t.outside.astype("<i8").tobytes()])
    return zlib.compress(MAGIC + struct.pack("<I", len(head)) + head + body, 1)


def test_first_format_journal_entries_still_replay_and_single_class_entries_are_unchanged():
    ls = model_set()
    E.set_class(ls, track_id=5, class_id=3).apply(ls)
    t = ls.track(5)
    old = _first_format_entry(t)
    states, _ = decode_states(old, num_frames=NUM_FRAMES, where="old")
    assert states[5].same_as(t) and states[5].classes.tolist() == [3] * len(t)
    assert zlib.decompress(encode_states({5: t})) == zlib.decompress(old)


def test_row_classes_survive_journal_replay_and_compaction(cache_path):
    ls = model_set()
    with ResultsCache.open(cache_path, mode="a") as cache, \
            LabelJournal.open(journal_path_for(cache_path), video_fingerprint=CACHE_FP) as journal:
        save(cache, ls, journal)
        ranged = E.set_class(ls, track_id=3, class_id=8, first=0, last=4)
        ranged.apply(ls)
        journal.record("gt", ranged)
        split = E.split_track(ls, track_id=3, frame=30, new_id=40)
        split.apply(ls)
        journal.record("gt", split)
        split.revert(ls)
        journal.record("gt", split, action="undo")
        undone = E.set_class(ls, track_id=5, class_id=2, first=40, last=50)
        undone.apply(ls)
        journal.record("gt", undone)
        undone.revert(ls)
        journal.record("gt", undone, action="undo")
        assert ls.track(5).single_class
    with ResultsCache.open(cache_path) as cache, \
            LabelJournal.open(journal_path_for(cache_path), readonly=True) as journal:
        replayed = load(cache, "gt", journal)
    assert replayed.equals(ls) and 40 not in replayed and replayed.track(5).single_class
    assert np.flatnonzero(replayed.track(3).classes == 8).tolist() == [0, 1, 2, 3, 4]
    with ResultsCache.open(cache_path, mode="a") as cache, \
            LabelJournal.open(journal_path_for(cache_path), video_fingerprint=CACHE_FP) as journal:
        save(cache, replayed, journal)
        assert journal.entry_count("gt") == 0 and load(cache, "gt").equals(ls)


def test_damaged_row_classes_flag_is_refused():
    t = model_set().track(3)
    raw = zlib.decompress(_first_format_entry(t))
    (hlen,) = struct.unpack("<I", raw[4:8])
    head = json.loads(raw[8:8 + hlen])
    head["tracks"][0]["row_classes"] = True  # flagged, but the class array is missing
    new_head = json.dumps(head).encode()
    blob = zlib.compress(MAGIC + struct.pack("<I", len(new_head)) + new_head + raw[8 + hlen:], 1)
    from engine.labels.journal import JournalCorruptError

    with pytest.raises(JournalCorruptError, match="past the end"):
        decode_states(blob, num_frames=NUM_FRAMES, where="entry 1")
    head["tracks"][0]["row_classes"] = "yes"
    new_head = json.dumps(head).encode()
    blob = zlib.compress(MAGIC + struct.pack("<I", len(new_head)) + new_head + raw[8 + hlen:], 1)
    with pytest.raises(JournalCorruptError, match="damaged track entry"):
        decode_states(blob, num_frames=NUM_FRAMES, where="entry 1")
