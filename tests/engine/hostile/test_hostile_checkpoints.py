"""Issue 12 §3: a checkpoint's sizes and numbers are checked before anything is built or inflated."""
from __future__ import annotations

import io
import json
import pickle
import resource
import zipfile

import numpy as np
import pytest
import torch

from engine.model import CheckpointError, load_checkpoint
from engine.model.checkpoint import FORMAT, VERSION

from hostile_inputs import bidirectional_checkpoint, causal_checkpoint, hostile_clip  # noqa: F401 (fixtures)


def _rewrite(src, dst, *, config=None, state=None):
    payload = torch.load(src, weights_only=True)
    if config:
        payload["config"] = json.dumps({**json.loads(payload["config"]), **config})
    for name, value in (state or {}).items():
        payload["state_dict"][name] = value(payload["state_dict"][name])
    torch.save(payload, dst)
    return dst


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("config,what", [
    ({"width": 64.0, "backbone": "resnet50"}, "width=64.0 is outside"),
    ({"input_size": [100000, 100000]}, "input_size=[100000, 100000]"),
    ({"num_classes": 10**9}, "num_classes=1000000000 is outside"),
    ({"feature_channels": 1.5e300}, "feature_channels="),
])
def test_absurd_config_values_are_refused_before_building(causal_checkpoint, tmp_path, config, what):
    path = _rewrite(causal_checkpoint, tmp_path / "bad.pt", config=config)
    before = _peak_rss_mb()
    with pytest.raises(CheckpointError, match=f"bad.pt: model config {what}".replace("[", r"\[").replace("]", r"\]")):
        load_checkpoint(path)
    assert _peak_rss_mb() - before < 200


def test_a_config_whose_tensors_are_not_in_the_file_is_refused_without_allocating(causal_checkpoint, tmp_path):
    """In range, but implying far more weights than the file holds: refused from the config alone."""
    path = _rewrite(causal_checkpoint, tmp_path / "big.pt",
                    config={"backbone": "resnet50", "width": 4.0, "feature_channels": 2048})
    before = _peak_rss_mb()
    with pytest.raises(CheckpointError, match="big.pt: model config .* needs at least [0-9]{3,} MB of weights, the checkpoint holds 3 MB"):
        load_checkpoint(path)
    assert _peak_rss_mb() - before < 200, "a ResNet-50 at width 4 must not be built to find that out"


def test_zip_bomb_is_refused_from_its_central_directory(tmp_path):
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/data.pkl", pickle.dumps({"format": FORMAT, "version": VERSION}))
        archive.writestr("bomb/data/0", b"\0" * (64 << 20))  # 64 MB of zeros, ~64 KB compressed
    assert path.stat().st_size < 1 << 20
    before = _peak_rss_mb()
    with pytest.raises(CheckpointError, match="bomb.pt: .* is compressed .* refused without being inflated"):
        load_checkpoint(path)
    assert _peak_rss_mb() - before < 32


def test_entries_declaring_more_than_the_file_holds_are_refused(causal_checkpoint, tmp_path):
    data = bytearray(causal_checkpoint.read_bytes())
    path = tmp_path / "liar.pt"
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.infolist()[-1]
    # patch the last entry's uncompressed size in the central directory to 2**31
    cd = data.rfind(b"PK\x01\x02")  # the last central directory header
    assert cd > 0 and info.file_size < 2**31
    data[cd + 24:cd + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="liar.pt: not a readable model checkpoint: its entries declare"):
        load_checkpoint(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused_on_load(causal_checkpoint, tmp_path, bad):
    def poison(t):
        t = t.clone()
        t.view(-1)[0] = float(bad)
        return t
    path = _rewrite(causal_checkpoint, tmp_path / "nan.pt", state={"action_head.fc.weight": poison})
    with pytest.raises(CheckpointError, match="nan.pt: weight 'action_head.fc.weight' holds NaN or infinite"):
        load_checkpoint(path)


def test_non_finite_detections_stop_the_run(causal_checkpoint, hostile_clip, tmp_path):
    """A model that loads (here: poisoned after loading) but whose boxes come out NaN: a clear stop,
    not a ValueError from deep inside the tracker."""
    from engine.model import load_checkpoint
    from engine.pipeline import infer_video
    from engine.pipeline.control import NonFiniteOutputError

    model, meta = load_checkpoint(causal_checkpoint)
    with torch.no_grad():
        model.tracking_head.offset[2].bias.fill_(float("nan"))
    with pytest.raises(NonFiniteOutputError, match="detections are not finite .* in frame 0"):
        infer_video(hostile_clip(12), model=(model, meta), cache_path=tmp_path / "r.h5", device="cpu")


@pytest.mark.parametrize("weight,what", [("action_head.fc.weight", "outputs are not finite")])
def test_overflowing_weights_stop_the_run_with_a_clear_message(causal_checkpoint, hostile_clip, tmp_path, capsys,
                                                               weight, what):
    """Finite weights whose outputs overflow to inf/NaN: the run stops (exit 1), no 'complete' NaN run."""
    from engine.cache import ResultsCache
    from engine.cli.main import main as stv

    path = _rewrite(causal_checkpoint, tmp_path / "huge.pt", state={weight: lambda t: torch.full_like(t, 3e38)})
    out = tmp_path / "r.h5"
    code = stv(["infer", str(hostile_clip(12)), "--model", str(path), "--out", str(out), "--device", "cpu",
                "--quiet", "--run", "r"])
    assert code == 1
    assert what in capsys.readouterr().err
    with ResultsCache.open(out) as cache:
        assert cache.run("r").completed_frames == 0


class _Planted:
    def __reduce__(self):
        return (print, ("planted code ran",))


def test_planted_pickle_is_refused_without_the_weights_only_hint(causal_checkpoint, tmp_path, capsys):
    path = tmp_path / "planted.pt"
    torch.save({"format": FORMAT, "version": VERSION, "x": _Planted()}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert "weights_only" not in str(info.value) and "refused without being run" in str(info.value)
    assert "planted code ran" not in capsys.readouterr().out


def test_training_state_loader_never_passes_on_the_weights_only_hint(tmp_path, capsys):
    from engine.train.checkpointing import TrainStateError, load_train_state

    path = tmp_path / "state.pt"
    torch.save({"format": "x", "x": _Planted()}, path)
    with pytest.raises(TrainStateError) as info:
        load_train_state(path)
    assert "weights_only" not in str(info.value) and "refused without being run" in str(info.value)
    assert "planted code ran" not in capsys.readouterr().out
