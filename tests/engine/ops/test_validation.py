"""propagate checks its contract at the boundary with a ValueError that names the problem."""
from __future__ import annotations

import pytest
import torch

from engine.ops import propagate

from .helpers import make_inputs


def test_bad_inputs_raise_value_errors_naming_the_problem():
    x, w, lam, h0 = make_inputs(channels=4, groups=2)
    cases = [
        (dict(x=x[0]), "x must be"),
        (dict(lam=lam[:, :, :2]), "lam must have"),
        (dict(w=w[0]), "w must be"),
        (dict(w=w[:, :, :, :2]), "does not match"),
        (dict(w=torch.zeros(1, 3, 9, 3, 5, 7)), "must divide"),
        (dict(w=torch.zeros(1, 2, 4, 3, 5, 7)), "odd K"),
        (dict(w=torch.zeros(1, 2, 8, 3, 5, 7)), "odd K"),
        (dict(h0=h0[:, :2]), "h0 must be"),
        (dict(lam=lam.double()), "dtype"),
        (dict(x=x.int(), w=w.int(), lam=lam.int(), h0=h0.int()), "float16/bfloat16/float32/float64"),
        (dict(x=x[:, :, :0], w=w[:, :, :, :0], lam=lam[:, :, :0]), "empty"),
        (dict(backend="cuda"), "unknown backend"),
        (dict(x=x.numpy()), "torch.Tensor"),
    ]
    for change, message in cases:
        args = dict(x=x, w=w, lam=lam, h0=h0, backend="torch") | change
        with pytest.raises(ValueError, match=message):
            propagate(args.pop("x"), args.pop("w"), args.pop("lam"), **args)


def test_triton_backend_rejects_float64():
    x, w, lam, h0 = make_inputs(dtype=torch.float64)
    with pytest.raises(ValueError, match="triton backend takes"):
        propagate(x, w, lam, h0=h0, backend="triton")


def test_meta_device_mismatch_is_named():
    x, w, lam, h0 = make_inputs()
    with pytest.raises(ValueError, match="device"):
        propagate(x, w, lam, h0=h0.to("meta"), backend="torch")


def test_importing_engine_ops_does_not_import_triton():
    import subprocess
    import sys
    probe = "import sys, engine.ops; print('triton' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
