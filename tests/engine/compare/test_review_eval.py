"""`stv review-eval` on a tiny synthetic benchmark: the JSON keys, fractions in [0, 1], and the pass-through of
the tracker's margins and embeddings into the cache (schema v2) end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory):
    pytest.importorskip("torch")
    from engine.data.synthetic import write_benchmark

    root = tmp_path_factory.mktemp("bench")
    write_benchmark(root, clips=2, seed=5, num_frames=16, size=(96, 160))
    return root


def test_review_eval_json(tiny_benchmark, tmp_path, capsys):
    caches = tmp_path / "caches"
    capsys.readouterr()
    assert main(["review-eval", str(tiny_benchmark), "--json", "--cache-dir", str(caches)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("switch_coverage_top10", "switch_coverage_top20", "switch_coverage_top50",
                "fragment_coverage_top20", "idf1_before", "idf1_after_top20", "random_switch_coverage_top20"):
        assert key in out
        assert out[key] is None or 0.0 <= out[key] <= 1.0, (key, out[key])
    assert out["clips"] == 2 and out["idf1_before"] is not None
    assert len(out["model_sha256"]) == 64

    from engine.cache import ResultsCache

    with ResultsCache.open(next(caches.glob("*.stv.h5"))) as cache:
        reader = cache.run(cache.run_names[0])
        assert cache.schema_version == 2 and reader.identity_missing_reason is None
        rows, margins, emb = reader.track_rows(), reader.track_margin_rows(), reader.track_embedding_rows()
        assert len(rows) and len(margins) == len(rows) and emb.shape == (len(rows), reader.embedding_dim)
        assert np.isfinite(margins).any()  # matched rows carry a margin, new tracks NaN
        norms = np.linalg.norm(emb.astype(np.float32), axis=1)
        assert np.allclose(norms[np.isfinite(norms)], 1.0, atol=1e-2)  # unit re-ID embeddings, float16


def test_review_eval_refuses_a_folder_that_is_not_a_benchmark(tmp_path, capsys):
    capsys.readouterr()
    assert main(["review-eval", str(tmp_path)]) == 1
    assert "stv make-synthetic" in capsys.readouterr().err
