"""Which cached run belongs to which model, without importing torch.

A run matches a model only when the run's ``checkpoint_sha256`` is the model file's sha256 (the same
file hash ``engine.model.checkpoint.sha256_of`` records). The demo model is the bundled file
``engine.assets.demo_model_path()``; when it is missing the "demo" model has no identity (None, like
a checkpoint path that is not a file) and running it fails saying so.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.assets import MissingAssetError, demo_model_path

_sha_memo: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of the file's bytes (memoised by path, size and mtime: checkpoints are large)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _sha_memo:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _sha_memo[key] = h.hexdigest()
    return _sha_memo[key]


@dataclass(frozen=True)
class ModelIdentity:
    run_name: str  # what engine.pipeline.runner.default_run_name names its run
    sha256: str  # what the pipeline records as the run's checkpoint_sha256


def model_identity(model: str | Path, *, demo_checkpoint: str | Path | None = None) -> ModelIdentity | None:
    """The identity of ``model`` ("demo" or a checkpoint path); None for a path that is not a file.
    ``demo_checkpoint``: the demo model's file (default: the bundled one)."""
    if str(model) == "demo":
        try:
            demo = Path(demo_checkpoint) if demo_checkpoint is not None else demo_model_path()
        except MissingAssetError:
            return None
        return ModelIdentity("demo", file_sha256(demo)) if demo.is_file() else None
    path = Path(model)
    if not path.is_file():
        return None
    sha = file_sha256(path)
    return ModelIdentity(f"{path.stem}-{sha[:8]}", sha)


def matching_run(identity: ModelIdentity | None, run_sha256: dict[str, str]) -> str | None:
    """The run made by ``identity``'s model among ``run_sha256`` (run name -> checkpoint sha256),
    preferring the model's default run name; None when there is none."""
    if identity is None:
        return None
    names = [name for name, sha in run_sha256.items() if sha == identity.sha256]
    if identity.run_name in names:
        return identity.run_name
    return names[0] if names else None


def fresh_run_name(identity: ModelIdentity, taken: list[str] | set[str]) -> str | None:
    """A run name for a new run of ``identity``'s model: None (the pipeline's default name) when that
    is free, else the default name plus the checkpoint hash (a run of an older demo model keeps its
    name), plus a counter if even that is taken."""
    taken = set(taken)
    if identity.run_name not in taken:
        return None
    base = f"{identity.run_name}-{identity.sha256[:8]}"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name
