"""Training state files: RNG round trip, atomic save, clear errors for foreign files and settings."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from engine.train.checkpointing import (TrainStateError, capture_rng_state, check_settings_match,
                                        load_train_state, restore_rng_state, save_train_state)


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_rng_state_round_trips_every_generator():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    state = capture_rng_state()
    first = _draw()
    _draw()
    restore_rng_state(state)
    assert _draw() == first


def test_save_and_load_train_state(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    path = tmp_path / "state" / "train_state.pt"
    save_train_state(path, model=model, optimizer=optimizer, scheduler=scheduler, scaler=None, epoch=1,
                     settings={"config": "tiny", "lr": 1e-3}, history=[{"epoch": 1.0, "loss": 0.5}])
    assert not path.with_name("train_state.pt.tmp").exists()
    state = load_train_state(path)
    assert state["epoch"] == 1
    assert state["history"][0]["loss"] == 0.5
    fresh = torch.nn.Linear(3, 2)
    fresh.load_state_dict(state["model"])
    assert torch.equal(fresh.weight, model.weight)
    opt2 = torch.optim.Adam(fresh.parameters(), lr=1e-3)
    opt2.load_state_dict(state["optimizer"])
    assert opt2.state_dict()["state"][0]["step"] == 1


def test_foreign_or_missing_files_are_clear_errors(tmp_path):
    with pytest.raises(TrainStateError, match="no training state"):
        load_train_state(tmp_path / "absent.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(TrainStateError, match="not a stviewer training state"):
        load_train_state(other)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(TrainStateError, match="garbage.pt"):
        load_train_state(garbage)


def test_resume_with_other_settings_is_refused():
    check_settings_match("x.pt", {"lr": 1e-4}, {"lr": 1e-4}, ("lr",))
    with pytest.raises(TrainStateError, match="lr: saved 0.0001, now 0.001"):
        check_settings_match("x.pt", {"lr": 1e-4}, {"lr": 1e-3}, ("lr",))
