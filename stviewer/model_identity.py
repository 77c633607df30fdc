"""Which cached run belongs to which model, without importing torch.

A run matches a model only when the run's ``checkpoint_sha256`` is the model file's sha256 (the same
file hash ``engine.model.checkpoint.sha256_of`` records). The demo model is ``assets/demo_model.pt``;
while that file is absent ``engine.model.loading.load_model("demo")`` uses a random stand-in recorded
with the sha256 ``"random-init"`` and run name ``"demo-random-init"``, so such runs match "demo" only
while the file is still absent (once it exists they are meaningless leftovers).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import engine

# as engine.model.loading.DEMO_CHECKPOINT (which imports torch)
DEMO_CHECKPOINT = Path(engine.__file__).resolve().parent.parent / "assets" / "demo_model.pt"
RANDOM_INIT_SHA256 = "random-init"
RANDOM_INIT_RUN_NAME = "demo-random-init"

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


def model_identity(model: str | Path, *, demo_checkpoint: str | Path = DEMO_CHECKPOINT) -> ModelIdentity | None:
    """The identity of ``model`` ("demo" or a checkpoint path); None for a path that is not a file."""
    if str(model) == "demo":
        demo = Path(demo_checkpoint)
        if demo.is_file():
            return ModelIdentity("demo", file_sha256(demo))
        return ModelIdentity(RANDOM_INIT_RUN_NAME, RANDOM_INIT_SHA256)
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
