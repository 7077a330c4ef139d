from .centered_distillation_loss import CenteredDistillationLoss
from .region_info_nce import RegionInfoNCELoss

__all__ = ['CenteredDistillationLoss', 'RegionInfoNCELoss']
