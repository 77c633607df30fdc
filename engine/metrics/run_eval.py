"""THE evaluation of a run against a label set: what the app's metrics panel shows and what
``stv export`` + ``stv eval`` reproduce exactly.

Both sides become MOT rows through the export's own conversions (``engine.io.export``:
:func:`~engine.io.export.label_set_gt_records` writes gt.txt, :func:`~engine.io.export.run_results_records`
writes the run's SEQ.txt) and are scored with TrackEval's MOTChallenge semantics over the video's
frame count (the exported seqinfo.ini's seqLength). The exported files hold exactly these numbers
(shortest round-trip decimals), so ``stv eval --gt OUT/SEQ/gt/gt.txt --pred OUT/SEQ.txt`` equals this
to the last bit. Not imported by ``engine.metrics`` itself (it needs the cache and label sets).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.io.mot import MOTRecords
from engine.metrics.evaluate import SequenceMetrics, evaluate_sequence

if TYPE_CHECKING:
    from engine.cache import RunReader
    from engine.labels import LabelSet


def evaluate_run_against_labels(run: "RunReader | MOTRecords", labels: "LabelSet", *, threshold: float = 0.5,
                                remove_distractor_matches: bool = True) -> SequenceMetrics:
    """CLEAR, Identity and HOTA of ``run`` scored against ``labels`` (the ground truth).

    ``run``: a RunReader, or its rows already converted with ``run_results_records`` (convert once and
    re-score after every label edit: only the label side changes). ``labels``: the LabelSet as in memory
    (unsaved edits included). Outside frames are not ground truth; rows with consider = 0 are ignored and
    only class 1 (pedestrian) is scored, distractor-class matches removed, as TrackEval does for MOT17.
    """
    from engine.io.export import label_set_gt_records, run_results_records

    pred = run if isinstance(run, MOTRecords) else run_results_records(run)
    if pred.kind != "results":
        raise ValueError(f"run rows must be results records, got {pred.kind}")
    gt = label_set_gt_records(labels)
    return evaluate_sequence(gt, pred, num_timesteps=labels.num_frames, gt_semantics="mot16",
                             remove_distractor_matches=remove_distractor_matches, threshold=threshold)
