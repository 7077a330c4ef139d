"""Evaluation protocols run outside mmengine's test loop."""
from .knn import global_features, knn_scores, recompute_bn_stats, topk_accuracy
from .pretext_diagnostics import (attention_concentration, exemplar_specificity,
                                  masked_patch_errors, pairwise_soft_iou)

__all__ = ['attention_concentration', 'exemplar_specificity', 'global_features',
           'knn_scores', 'masked_patch_errors', 'pairwise_soft_iou', 'recompute_bn_stats',
           'topk_accuracy']
