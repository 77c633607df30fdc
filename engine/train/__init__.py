"""Training of the unified model: losses, the loop (single process or DDP under torchrun), resume."""
