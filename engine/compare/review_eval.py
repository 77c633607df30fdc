"""How good is the review queue? Measured against ground truth on synthetic clips (``stv review-eval``).

For each clip: the model's run (through ``stv infer``'s pipeline, into a cache), its actual ID switches and
fragmentations against the clip's gt (CLEAR's own events, :mod:`engine.compare.switches`), and the run's
review queue (built without the gt). An event is *covered* by the top k items when one of them names one
of the event's run IDs (the ID before or after the switch/fragment) within ``COVER_FRAMES`` frames of it.
Coverage is pooled over clips (covered events / all events). IDF1 before / after: the run, and the run as a
label set with the top-20 proposals accepted blindly (as pressing Enter 20 times would), both scored against
the gt like ``stv eval`` (pooled IDTP/IDFP/IDFN).

The proximity rule is generous to any list of places, so a reference is printed beside it: the coverage of
a random queue of the same length per clip (items at random track rows of the run: a frame and its track
ID), averaged over ``RANDOM_TRIALS`` draws with a fixed seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.compare.review import ReviewItem, ReviewQueue, ReviewSettings, apply_proposals, review_run
from engine.compare.switches import identity_events
from engine.compare.tracks import TrackTable

COVER_FRAMES = 8
TOPS = (10, 20, 50)
ACCEPT_TOP = 20
RANDOM_TRIALS = 20


def covered(events_frames: np.ndarray, events_ids: np.ndarray, items: tuple[ReviewItem, ...]) -> np.ndarray:
    """(E,) bool: event e (frame, ids (E, 2)) has an item naming one of its ids within COVER_FRAMES frames."""
    out = np.zeros(len(events_frames), bool)
    for it in items:
        ids = np.array(it.track_ids)
        near = np.abs(events_frames - it.frame) <= COVER_FRAMES
        named = np.isin(events_ids, ids).any(axis=1)
        out |= near & named
    return out


@dataclass
class ClipReview:
    name: str
    switches: int
    fragments: int
    switch_covered: dict[int, int]
    fragment_covered: dict[int, int]
    random_switch_covered: dict[int, float]
    metrics_before: object  # engine.metrics.SequenceMetrics
    metrics_after: object
    applied: int
    skipped: int
    queue: ReviewQueue = field(repr=False)


def review_clip(name: str, reader, gt_records, *, settings: ReviewSettings | None = None) -> ClipReview:
    """Score one clip's queue (``reader``: the run's RunReader; ``gt_records``: the clip's MOT gt)."""
    from engine.io.export import label_set_results_records, run_results_records
    from engine.labels import LabelSet
    from engine.metrics import evaluate_sequence

    num_frames = reader.num_frames
    keep = (gt_records.confidences != 0) & (gt_records.classes == 1 if gt_records.classes is not None else True)
    labels = TrackTable(frames=gt_records.frame_indices()[keep], ids=gt_records.ids[keep],
                        boxes=gt_records.boxes_xyxy()[keep], scores=np.ones(int(np.sum(keep))))
    run = TrackTable.from_rows(reader.track_rows())
    events = identity_events(run, labels, num_frames=num_frames)
    queue = review_run(reader, settings=settings)
    sw_ids = np.column_stack([events.previous_id, events.new_id])
    fr_ids = np.column_stack([events.fragment_previous_id, events.fragment_id])
    switch_covered = {k: int(covered(events.frame, sw_ids, queue.top(k)).sum()) for k in TOPS}
    fragment_covered = {k: int(covered(events.fragment_frame, fr_ids, queue.top(k)).sum()) for k in TOPS}
    random_covered = _random_coverage(reader.track_rows(), events.frame, sw_ids, [len(queue.top(k)) for k in TOPS])
    before = evaluate_sequence(gt_records, run_results_records(reader), num_timesteps=num_frames)
    corrected = LabelSet.from_run(reader, name="review")
    applied, skipped = apply_proposals(corrected, queue.items, limit=ACCEPT_TOP)
    after = evaluate_sequence(gt_records, label_set_results_records(corrected), num_timesteps=num_frames)
    return ClipReview(name=name, switches=events.num_switches, fragments=events.num_fragments,
                      switch_covered=switch_covered, fragment_covered=fragment_covered,
                      random_switch_covered=dict(zip(TOPS, random_covered)), metrics_before=before,
                      metrics_after=after, applied=applied, skipped=skipped, queue=queue)


def _random_coverage(rows: np.ndarray, frames: np.ndarray, ids: np.ndarray, sizes: list[int]) -> list[float]:
    """Mean switches covered by random queues of each size in ``sizes`` (see the module docstring)."""
    rng = np.random.default_rng(0)
    out = []
    for n in sizes:
        if n == 0 or len(rows) == 0 or len(frames) == 0:
            out.append(0.0)
            continue
        total = 0
        for _ in range(RANDOM_TRIALS):
            pick = rng.integers(len(rows), size=n)
            items = tuple(ReviewItem("random", int(rows[i, 0]), (int(rows[i, 1]),), "", 0.0, None) for i in pick)
            total += int(covered(frames, ids, items).sum())
        out.append(total / RANDOM_TRIALS)
    return out


def summarize(clips: list[ClipReview]) -> dict:
    """Pooled figures (the JSON ``stv review-eval`` prints)."""
    from engine.metrics import combine_sequences

    switches = sum(c.switches for c in clips)
    fragments = sum(c.fragments for c in clips)
    out: dict = {"clips": len(clips), "switches": switches, "fragments": fragments}
    for k in TOPS:
        out[f"switch_coverage_top{k}"] = sum(c.switch_covered[k] for c in clips) / switches if switches else None
    for k in TOPS:
        out[f"random_switch_coverage_top{k}"] = (sum(c.random_switch_covered[k] for c in clips) / switches
                                                 if switches else None)
    for k in TOPS:
        out[f"fragment_coverage_top{k}"] = (sum(c.fragment_covered[k] for c in clips) / fragments
                                            if fragments else None)
    out["idf1_before"] = combine_sequences([c.metrics_before for c in clips]).summary()["IDF1"] if clips else None
    out[f"idf1_after_top{ACCEPT_TOP}"] = (combine_sequences([c.metrics_after for c in clips]).summary()["IDF1"]
                                          if clips else None)
    out["proposals_applied"] = sum(c.applied for c in clips)
    out["proposals_skipped"] = sum(c.skipped for c in clips)
    out["queue_items"] = sum(len(c.queue) for c in clips)
    return out


def evaluate_benchmark(data: str | Path, *, model="demo", device: str = "cpu", workdir: str | Path,
                       settings: ReviewSettings | None = None, progress=None) -> tuple[dict, list[ClipReview]]:
    """Run ``model`` on every clip of the synthetic benchmark ``data`` (as ``stv make-synthetic`` writes it),
    caching runs under ``workdir``, and score each clip's queue; returns (summary, per-clip results)."""
    from engine.cache import ResultsCache
    from engine.data.synthetic import read_benchmark
    from engine.io.mot import read_gt
    from engine.model import load_model
    from engine.pipeline import infer_video

    data, workdir = Path(data), Path(workdir)
    index = read_benchmark(data)
    net, meta = load_model(str(model), device=device) if isinstance(model, (str, Path)) else model
    meta = dict(meta)
    meta.setdefault("spec", str(model))
    results = []
    for i, clip in enumerate(index.clips):
        cache_path = workdir / f"{clip.name}.stv.h5"
        run_name = infer_video(clip.video, model=(net, meta), cache_path=cache_path, device=device)
        with ResultsCache.open(cache_path) as cache:
            reader = cache.run(run_name)
            gt = read_gt(clip.gt, seq_length=reader.num_frames)
            results.append(review_clip(clip.name, reader, gt, settings=settings))
        if progress is not None:
            progress(i + 1, len(index.clips))
    return summarize(results), results
