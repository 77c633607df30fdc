"""DDP with gloo on CPU: two ranks train a few steps and end with identical weights."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from engine.train.distributed import init_distributed

from train_helpers import TINY_OVERRIDES, tiny_clips


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str, clips_path: str) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    from engine.train.loop import TrainSettings, train

    settings = TrainSettings(data=clips_path, out=out, config="tiny", epochs=2, lr=1e-3, batch_size=4,
                             device="cpu", progress=False, config_overrides=dict(TINY_OVERRIDES))
    result = train(settings, log=lambda s: None)
    torch.save(result.model.state_dict(), os.path.join(out, f"rank{rank}.pt"))


def test_two_gloo_ranks_keep_identical_weights(tmp_path):
    clips_path = tmp_path / "clips.pt"
    tiny_clips(n=8).save(clips_path)
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path), str(clips_path)), nprocs=2,
                       join=True, start_method="spawn")
    w0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    initial = None
    for name in w0:
        assert torch.equal(w0[name], w1[name]), name
    # and training moved them (the ranks did not just both stay at the initial weights)
    from engine.model import build_model, get_config

    torch.manual_seed(0)
    initial = build_model(get_config("tiny", **TINY_OVERRIDES, num_classes=3)).state_dict()
    assert any(not torch.equal(initial[n], w0[n]) for n in w0 if w0[n].is_floating_point())
    # rank 0 alone wrote the run's files
    assert (tmp_path / "model.pt").is_file() and (tmp_path / "train_state.pt").is_file()


def test_world_of_one_without_torchrun(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed(device="cpu")
    assert (ctx.rank, ctx.world_size, ctx.distributed, ctx.is_main) == (0, 1, False, True)
