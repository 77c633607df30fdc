"""The unified spatial-temporal model (paper §3) and its checkpoints.

    build_model(name_or_config, num_classes=None, **overrides) -> UnifiedModel
    UnifiedModel.forward(clip (B, T, 3, H, W) in [0, 1], *, state=None) -> ModelOutput
    UnifiedModel.decode(output, *, score_threshold=0.1, max_detections=100) -> [b][t] Detections
    save_checkpoint(path, model, *, class_names, extra=None); load_checkpoint(path, *, map_location="cpu")
    load_model("demo" | path, *, device="cpu") -> (model, meta)
    encode_targets(...) (engine.model.targets): training targets with the head's conventions
    load_torchvision_weights(encoder, state_dict): ImageNet ResNet weights into the encoder
"""
from engine.config import ModelConfig, get_config
from engine.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.model.decode import decode_detections
from engine.model.loading import load_model
from engine.model.outputs import Detections, ModelOutput
from engine.model.spatial_attention import LoadReport, TorchvisionWeightsError, load_torchvision_weights
from engine.model.targets import encode_targets
from engine.model.unified import UnifiedModel, build_model

__all__ = [
    "CheckpointError", "Detections", "LoadReport", "ModelConfig", "ModelOutput", "TorchvisionWeightsError",
    "UnifiedModel", "build_model", "decode_detections", "encode_targets", "get_config", "load_checkpoint",
    "load_model", "load_torchvision_weights", "save_checkpoint",
]
