"""Geometry shared by the data pipeline and the models: boxes, windows, rotated regions,
query-patch positions. Plain tensor functions, importable from every layer."""
from .query_positions import query_patch_coords
from .region_windows import boxes_inside, map_boxes, query_key_regions, sliding_windows
from .rotated_regions import (crop_rotated_regions, rasterize_regions, region_sampling_grid,
                              rotated_box_regions, sample_boxes, sample_rotated_regions)

__all__ = ['boxes_inside', 'crop_rotated_regions', 'map_boxes', 'query_key_regions',
           'query_patch_coords', 'rasterize_regions', 'region_sampling_grid',
           'rotated_box_regions', 'sample_boxes', 'sample_rotated_regions', 'sliding_windows']
