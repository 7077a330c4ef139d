from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmssl_ext.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast('cpu', bfloat16)``.

    Mixed precision on CPU: mmengine 0.10.7's ``AmpOptimWrapper`` refuses to build
    without an accelerator. What it adds to ``OptimWrapper`` is this autocast context
    (around the data preprocessor and the forward of ``train_step``) and loss scaling,
    which bfloat16 does not need. Used by ``tools/analysis_tools/benchmark.py --amp``.
    """

    cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
