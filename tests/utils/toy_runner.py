"""A real mmengine Runner around a 3-parameter model, for in-process hook tests.

``toy_runner(work_dir, max_iters, inputs=...)`` trains ``Linear(2, 1)`` with SGD on one
sample per iteration (``inputs[i]`` at iteration i, in order), saving a checkpoint every
iteration through mmssl_ext's ``SafeCheckpointHook`` (portable, weights-only loadable);
``default_hooks`` entries update (or add) hooks.
"""
import uuid

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmssl_ext  # noqa: F401  (registers the hooks)


class ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outputs = self.linear(torch.stack(inputs))  # (B, 1)
        return dict(loss=outputs.square().mean()) if mode == 'loss' else outputs


class ToyDataset(Dataset):

    def __init__(self, inputs) -> None:
        self.inputs = [torch.as_tensor(x, dtype=torch.float32) for x in inputs]

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.inputs[index])


def toy_runner(work_dir, max_iters: int, inputs=None, default_hooks=None, model=None,
               **kwargs) -> Runner:
    torch.manual_seed(0)  # the same initial weights in every run
    inputs = inputs if inputs is not None else [[1., float(i)] for i in range(max_iters)]
    hooks = dict(
        checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=1,
                        max_keep_ckpts=2),
        logger=dict(type='LoggerHook', interval=1))
    for name, hook in (default_hooks or {}).items():
        hooks[name] = dict(hooks.get(name, {}), **hook)
    return Runner(
        model=model or ToyModel(), work_dir=str(work_dir), experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(dataset=ToyDataset(inputs), batch_size=1, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=hooks, default_scope='mmpretrain', randomness=dict(seed=0), **kwargs)
