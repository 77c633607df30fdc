"""Do tracker results and ground truth describe the same sequence? (``stv eval`` warns, ``--strict`` refuses)

Results of one video scored against another video's gt give a meaningless number (a bikes.mp4 run
against TUD-Stadtmitte's gt printed MOTA -73.6 without a word). The signs checked here are cheap and
never fire for a tracker that merely missed people:

* results past the last gt frame when no seqinfo.ini says how long the sequence is (with one,
  a frame past seqLength is already an error, as in TrackEval);
* gt and results each beside a seqinfo.ini, naming different sequences or lengths;
* result boxes lying entirely outside the image size the gt's seqinfo.ini gives.
"""
from __future__ import annotations

import numpy as np

from engine.io.mot import MOTRecords, SeqInfo


def sequence_mismatches(gt: MOTRecords, pred: MOTRecords, *, gt_info: SeqInfo | None = None,
                        pred_info: SeqInfo | None = None) -> list[str]:
    """Human-readable reasons to believe ``pred`` was not made on ``gt``'s sequence ([] if none)."""
    reasons: list[str] = []
    if len(pred) and len(gt) and gt_info is None and pred.max_frame() > gt.max_frame():
        reasons.append(f"results reach frame {pred.max_frame()} but the ground truth ends at frame {gt.max_frame()} "
                       "(and no seqinfo.ini gives the sequence length)")
    if gt_info is not None and pred_info is not None:
        if gt_info.name != pred_info.name:
            reasons.append(f"the results' seqinfo.ini names sequence {pred_info.name!r}, the gt's {gt_info.name!r}")
        if gt_info.seq_length != pred_info.seq_length:
            reasons.append(f"the results' seqinfo.ini says {pred_info.seq_length} frames, the gt's "
                           f"{gt_info.seq_length}")
    if gt_info is not None and gt_info.im_width > 0 and gt_info.im_height > 0 and len(pred):
        left, top, width, height = (pred.ltwh[:, k] for k in range(4))
        outside = ((left > gt_info.im_width + 1) | (top > gt_info.im_height + 1) | (left + width < 1)
                   | (top + height < 1))
        count = int(np.count_nonzero(outside))
        if count:
            reasons.append(f"{count} of {len(pred)} result boxes lie entirely outside the "
                           f"{gt_info.im_width}x{gt_info.im_height} image of the gt's seqinfo.ini")
    return reasons
