"""The synthetic benchmark generator: determinism, boxes vs drawn pixels, distinct actions, files."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from engine.data.actors import ACTIONS
from engine.data.synthetic import (SyntheticFormatError, clip_plan, generate_clip, read_benchmark,
                                   read_clip_labels, render_action_sheet, write_benchmark)

SMALL = (144, 256)


def test_same_seed_gives_identical_clips_and_different_seeds_differ():
    a = generate_clip(seed=11, num_frames=10, size=SMALL)
    b = generate_clip(seed=11, num_frames=10, size=SMALL)
    c = generate_clip(seed=12, num_frames=10, size=SMALL)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.gt_rows(), b.gt_rows())
    assert a.actor_actions == b.actor_actions and a.label == b.label
    assert not np.array_equal(a.frames, c.frames)


def test_frames_are_rgb_uint8_and_label_is_a_strict_majority():
    for seed in range(8):
        clip = generate_clip(seed=seed, num_frames=4, size=SMALL)
        assert clip.frames.dtype == np.uint8 and clip.frames.shape == (4, *SMALL, 3)
        assert clip.frames.flags.c_contiguous
        actions = list(clip.actor_actions.values())
        assert 2 <= len(actions) <= 4
        assert actions.count(clip.label) * 2 > len(actions)
        assert len(clip.distractors) <= 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_boxes_contain_exactly_the_drawn_figures(seed):
    clip = generate_clip(seed=seed, num_frames=24, size=(180, 320), return_id_maps=True)
    h, w = clip.frames.shape[1:3]
    rows = 0
    for t in range(clip.num_frames):
        id_map = clip.id_maps[t]
        boxes = {int(i): b for i, b in zip(clip.ids[t], clip.boxes[t])}
        vis = {int(i): v for i, v in zip(clip.ids[t], clip.visibility[t])}
        assert set(np.unique(id_map)) - {0} <= set(boxes)
        for track_id, (x1, y1, x2, y2) in boxes.items():
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
            ys, xs = np.nonzero(id_map == track_id)
            assert 0.0 <= vis[track_id] <= 1.0
            if ys.size:
                assert xs.min() >= x1 and xs.max() < x2 and ys.min() >= y1 and ys.max() < y2
            if vis[track_id] == 1.0:  # wholly visible: the box is the tight box of its pixels
                assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2, y2)
            else:
                assert ys.size / max(1, (x2 - x1) * (y2 - y1)) < 1.0
            rows += 1
    assert rows > 0
    gt = clip.gt_rows()
    considered = np.concatenate(clip.considered)
    assert gt.shape == (rows, 9)
    assert np.all(gt[considered, 6:8] == [1, 1]) and np.all(gt[~considered, 6:8] == [0, 8])


def test_figures_mostly_outside_the_frame_get_dont_care_rows():
    seen = 0
    for seed in range(30, 40):
        clip = generate_clip(seed=seed, num_frames=40, size=(90, 160), return_id_maps=True)
        for t in range(clip.num_frames):
            for (x1, y1, x2, y2), keep, vis in zip(clip.boxes[t], clip.considered[t], clip.visibility[t]):
                touches_edge = x1 == 0 or x2 == 160 or y1 == 0 or y2 == 90
                if not keep:
                    seen += 1
                    assert touches_edge and vis < 0.2
    assert seen > 0


def test_figures_change_the_pixels_inside_their_boxes():
    clip = generate_clip(seed=5, num_frames=2, size=(180, 320), return_id_maps=True)
    # figure pixels have the dark outline or saturated colours: they differ from their surroundings
    frame, id_map = clip.frames[0].astype(int), clip.id_maps[0]
    for track_id in clip.ids[0]:
        inside = frame[id_map == track_id]
        assert inside.std() > 20


def _motion_features(clip) -> dict[int, np.ndarray]:
    """Per actor: box-centre speed, feet height spread, height and width spread, mask change, all / height."""
    feats = {}
    for track_id in clip.actor_actions:
        rows = [(t, b) for t in range(clip.num_frames) for i, b in zip(clip.ids[t], clip.boxes[t]) if i == track_id]
        if len(rows) < clip.num_frames:
            continue  # leaves the frame: skip
        boxes = np.array([b for _, b in rows], float)
        hts, wds = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
        scale = np.median(hts)
        cx = (boxes[:, 0] + boxes[:, 2]) / 2
        masks = np.stack([clip.id_maps[t] == track_id for t in range(clip.num_frames)]).astype(float)
        change = np.abs(np.diff(masks, axis=0)).sum((1, 2)).mean() / masks.sum((1, 2)).mean()
        feats[track_id] = np.array([np.abs(np.diff(cx)).mean() / scale, boxes[:, 3].std() / scale,
                                    hts.std() / scale, wds.std() / scale, wds.mean() / scale, change])
    return feats


def test_actions_have_distinct_motion_statistics():
    """Nearest-centroid on six box/mask statistics separates the actions of held-out seeds."""
    def features(action, seeds):
        out = []
        for seed in seeds:
            clip = generate_clip(seed=seed, num_frames=16, size=(180, 320), action=action, num_actors=2,
                                 return_id_maps=True)
            out += [f for i, f in _motion_features(clip).items() if clip.actor_actions[i] == action]
        return np.array(out)

    train = {a: features(a, range(100, 104)) for a in ACTIONS}
    test = {a: features(a, range(200, 203)) for a in ACTIONS}
    allf = np.concatenate(list(train.values()))
    mu, sd = allf.mean(0), allf.std(0) + 1e-9
    centroids = np.stack([((train[a] - mu) / sd).mean(0) for a in ACTIONS])
    correct = total = 0
    for k, a in enumerate(ACTIONS):
        z = (test[a] - mu) / sd
        pred = np.argmin(((z[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
        correct += int((pred == k).sum())
        total += len(z)
    assert total >= 12
    assert correct / total >= 0.9, f"{correct}/{total}"


def test_action_sheet_renders_every_action():
    sheet = render_action_sheet(num_frames=4, height=40)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3
    rows = np.split(sheet, len(ACTIONS), axis=0)
    assert len({r.tobytes() for r in rows}) == len(ACTIONS)


def test_clip_plan_is_balanced_and_seeded():
    plan = clip_plan(clips=12, seed=4)
    assert [p[1] for p in plan] == [4 * 100003 + i for i in range(12)]
    labels = [p[2] for p in plan]
    assert all(labels.count(a) == 2 for a in ACTIONS)
    assert clip_plan(clips=12, seed=4) == plan != clip_plan(clips=12, seed=5)
    with pytest.raises(ValueError):
        clip_plan(clips=0, seed=1)
    with pytest.raises(ValueError):
        generate_clip(seed=-1)
    with pytest.raises(ValueError, match="unknown action"):
        generate_clip(seed=1, action="dance")


def test_written_benchmark_is_deterministic_and_readable(tmp_path):
    from engine.io.mot import read_gt, read_seqinfo

    first = write_benchmark(tmp_path / "a", clips=3, seed=9, num_frames=12, size=SMALL)
    second = write_benchmark(tmp_path / "b", clips=3, seed=9, num_frames=12, size=SMALL, workers=2)
    assert first.read_bytes() == second.read_bytes()
    bench = read_benchmark(tmp_path / "a")
    assert bench.class_names == ACTIONS and len(bench.clips) == 3 and bench.size == SMALL
    assert (tmp_path / "a" / "classes.txt").read_text().split() == list(ACTIONS)
    for clip in bench.clips:
        other = tmp_path / "b" / "clips" / clip.name
        assert clip.gt.read_bytes() == (other / "gt" / "gt.txt").read_bytes()
        assert clip.labels.read_bytes() == (other / "labels.json").read_bytes()
        assert clip.video.read_bytes() == (other / "video.mp4").read_bytes()
        labels = read_clip_labels(clip.labels)
        assert labels["label"] == clip.label and set(labels["actors"]) <= set(range(1, 5))
        gt = read_gt(clip.gt, seq_length=12)
        assert set(gt.ids.tolist()) <= set(labels["actors"])
        info = read_seqinfo(clip.folder / "seqinfo.ini")
        assert (info.seq_length, info.im_height, info.im_width, info.frame_rate) == (12, *SMALL, 25.0)
        # the regenerated clip matches the files
        again = generate_clip(seed=clip.seed, num_frames=12, size=SMALL, action=clip.label)
        assert np.allclose(gt.values, again.gt_rows())


def test_video_reads_back_with_cv2_and_pyav(tmp_path):
    import av

    write_benchmark(tmp_path, clips=1, seed=2, num_frames=16, size=(180, 320))
    clip = read_benchmark(tmp_path).clips[0]
    original = generate_clip(seed=clip.seed, num_frames=16, size=(180, 320), action=clip.label).frames
    cap = cv2.VideoCapture(str(clip.video))
    decoded = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        decoded.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    assert len(decoded) == 16
    psnr = [cv2.PSNR(a, b) for a, b in zip(original, decoded)]
    assert min(psnr) > 28, psnr
    with av.open(str(clip.video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 16 and frames[0].shape == (180, 320, 3)
    assert min(cv2.PSNR(a, b) for a, b in zip(original, frames)) > 28
    from engine.video import open_video

    with open_video(clip.video) as source:  # the engine's own reader sees the same frames as cv2
        assert len(source) == 16 and source.fps == 25.0
        assert all(np.array_equal(source[k], decoded[k]) for k in (0, 7, 15))


def test_malformed_files_name_the_file(tmp_path):
    with pytest.raises(SyntheticFormatError, match="index.json"):
        read_benchmark(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(SyntheticFormatError, match="index.json.*JSON"):
        read_benchmark(tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(SyntheticFormatError, match="format"):
        read_benchmark(tmp_path)
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps({"label": "walk"}))
    with pytest.raises(SyntheticFormatError, match="labels.json"):
        read_clip_labels(bad)


def test_cli_writes_a_benchmark(tmp_path, capsys):
    from engine.cli.main import main

    assert main(["make-synthetic", str(tmp_path / "out"), "--clips", "2", "--seed", "1", "--frames", "6",
                 "--size", "96x160", "--quiet", "--preview"]) == 0
    assert cv2.imread(str(tmp_path / "out" / "actions.png")) is not None
    assert len(read_benchmark(tmp_path / "out").clips) == 2
    assert "wrote 2 clips" in capsys.readouterr().out
    assert main(["make-synthetic", str(tmp_path / "x"), "--clips", "0", "--seed", "1"]) == 2
    with pytest.raises(SystemExit):
        main(["make-synthetic", str(tmp_path / "x"), "--clips", "1", "--seed", "1", "--size", "big"])
