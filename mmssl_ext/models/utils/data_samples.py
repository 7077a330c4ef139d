"""Per-sample targets and geometry travel in data samples; the models stack them."""
from typing import List, Optional

import numpy as np
import torch
from mmpretrain.structures import DataSample


def stack_sample_field(data_samples: Optional[List[DataSample]], key: str,
                       device: Optional[torch.device] = None,
                       dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """(B, ...) tensor of the field ``key`` of every data sample.

    Args:
        data_samples (list[DataSample]): one per image of the batch.
        key (str): field name, e.g. ``'mask'``, ``'crop_boxes'``.
        device, dtype (optional): of the result (default: the fields').

    Raises:
        KeyError: naming ``key`` when a data sample lacks it.
    """
    if not data_samples or any(key not in sample for sample in data_samples):
        raise KeyError(f"every data sample must carry '{key}' (set by the data pipeline or "
                       'the data preprocessor)')
    values = [sample.get(key) for sample in data_samples]
    if isinstance(values[0], torch.Tensor):
        stacked = torch.stack(values)
    else:
        stacked = torch.as_tensor(np.stack([np.asarray(value) for value in values]))
    return stacked.to(device=device, dtype=dtype)


def set_sample_field(data_samples: Optional[List[DataSample]], key: str,
                     values: torch.Tensor) -> List[DataSample]:
    """Store ``values[i]`` as the field ``key`` of data sample i (made when absent)."""
    if data_samples is None:
        data_samples = [DataSample() for _ in range(len(values))]
    if len(data_samples) != len(values):
        raise ValueError(f'{len(data_samples)} data samples for a batch of {len(values)}')
    for sample, value in zip(data_samples, values):
        sample.set_field(value, key)
    return data_samples
