"""Helpers shared by the hooks."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def bare_model(runner) -> nn.Module:
    """The runner's model without its distributed wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model
