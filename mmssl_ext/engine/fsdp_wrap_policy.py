"""FSDP auto-wrap policy by module class name, for ``FSDPStrategy`` configs."""
from typing import Sequence

import torch.nn as nn
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def wrap_modules_by_class(module: nn.Module, recurse: bool, nonwrapped_numel: int,
                          class_names: Sequence[str] = ()) -> bool:
    """FSDP ``auto_wrap_policy``: one FSDP unit per module whose class name is listed.

    Config use: ``model_wrapper=dict(auto_wrap_policy=dict(type='wrap_modules_by_class',
    class_names=['BEiTTransformerEncoderLayer', ...]))``; the rest of the model goes
    into the root unit. Units per transformer block keep one block's full parameters in
    memory at a time.
    """
    return True if recurse else type(module).__name__ in class_names
