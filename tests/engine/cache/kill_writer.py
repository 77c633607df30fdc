"""Subprocess used by test_crash.py: writes a deterministic run with periodic checkpoints.

    python kill_writer.py CACHE.h5 NUM_FRAMES CHECKPOINT_EVERY

Creates the cache/run or resumes it, prints "start <completed>" once writing begins,
"ckpt <frames>" after every checkpoint returns, "saved <label set>" after saving one, "done" at the end. The test SIGKILLs it anywhere.
"""
from __future__ import annotations

import sys

from engine.cache import ResultsCache
from engine.cache.synthetic import synthetic_frame

FINGERPRINT = "size=1234:sha256=feedface"
RUN = "tiny"
LABEL_EVERY = 700
LABELS = [[0, 1, 10, 20, 50, 90, 1.0], [5, 2, 30, 40, 70, 130, 0.9]]


def frame_for(k: int):
    """Varied content: some frames lack alpha, per-track actions or detections."""
    r = synthetic_frame(k, with_detections=(k % 3 == 0))
    if k % 7 == 3:
        r.alpha = None
    if k % 5 == 1:
        r.track_action_probs = None
    return r


def main() -> int:
    path, num_frames, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cache = ResultsCache.create(path, video_fingerprint=FINGERPRINT, video_path="synthetic.mp4",
                                num_frames=num_frames, fps=25.0, width=640, height=360)
    with cache:
        if RUN in cache.run_names:
            writer = cache.open_run_writer(RUN)
        else:
            writer = cache.create_run(RUN, model_config={"name": "tiny"}, checkpoint_sha256="0" * 64,
                                      class_names=[f"c{i}" for i in range(6)], params={"window": 8},
                                      alpha_shape=(28, 48))
        start = writer.completed_frames
        print("start", start, flush=True)
        for k in range(start, num_frames):
            writer.write(frame_for(k))
            if (k + 1) % every == 0:
                writer.checkpoint()
                print("ckpt", k + 1, flush=True)
            if k % LABEL_EVERY == LABEL_EVERY // 2:
                # corrections saved while the run is being written must survive a kill too
                cache.save_label_set(f"live{k}", LABELS, source_run=RUN)
                print("saved", f"live{k}", flush=True)
        writer.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
