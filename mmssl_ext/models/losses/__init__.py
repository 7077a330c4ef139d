from .region_info_nce import RegionInfoNCELoss

__all__ = ['RegionInfoNCELoss']
