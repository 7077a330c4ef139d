"""Draw what a CIM checkpoint predicts (the paper's Figure 5).

For one image: the context, each exemplar, its ground-truth correlation map and the
predicted map (probability of "exemplar here"), side by side, saved as a PNG.

    python tools/visualization/vis_cim.py CONFIG CHECKPOINT IMAGE [--out cim.png]
        [--seed 0] [--augment]
"""
import argparse

import matplotlib
import numpy as np
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.utils.checkpoint_kind import load_checked
from mmssl_ext.utils.image import load_square_image

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Visualise CIM correlation maps')
    parser.add_argument('config', help='CIM pre-training config')
    parser.add_argument('checkpoint', help='CIM checkpoint')
    parser.add_argument('image', help='an image file')
    parser.add_argument('--out', default='cim_correlation_maps.png', help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help='seed of the exemplars')
    parser.add_argument('--augment', action='store_true',
                        help='apply the exemplar augmentation of the config')
    parser.add_argument('--no-checkpoint-check', action='store_true',
                        help='load a checkpoint of another kind (what fits)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    load_checked(model, args.checkpoint, check=not args.no_checkpoint_check)
    model = model.to(args.device).eval()
    preprocessor = model.data_preprocessor
    if not getattr(preprocessor, 'sample_on_device', False):
        raise ValueError('the config must use CIMDataPreprocessor(sample_on_device=True)')

    torch.manual_seed(args.seed)
    base = load_square_image(args.image, preprocessor.sampler.base_size)
    base = torch.from_numpy(base).permute(2, 0, 1)[None].float().to(args.device)
    contexts, exemplars, maps = preprocessor.sampler(base)
    if args.augment:
        exemplars = preprocessor.exemplar_augment(exemplars[0].flip(1)).flip(1)[None]
    with torch.no_grad():
        logits = model.correlation_logits(preprocessor.normalize(contexts),
                                          preprocessor.normalize(exemplars))
    predicted = logits.softmax(2)[0, :, 1].cpu().numpy()

    def rgb(image: torch.Tensor) -> np.ndarray:
        return image.clamp(0, 255).byte().permute(1, 2, 0).flip(-1).cpu().numpy()

    num = exemplars.shape[1]
    context = rgb(contexts[0])
    figure, axes = plt.subplots(3, num + 1, figsize=(2.2 * (num + 1), 6.8), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    axes[0, 0].imshow(context)
    axes[0, 0].set_title('context')
    for n in range(num):
        axes[0, n + 1].imshow(rgb(exemplars[0, n]))
        axes[0, n + 1].set_title(f'exemplar {n + 1}')
        axes[1, n + 1].imshow(context)
        axes[1, n + 1].imshow(maps[0, n].cpu().numpy(), alpha=0.55, cmap='viridis')
        axes[2, n + 1].imshow(context)
        axes[2, n + 1].imshow(predicted[n], alpha=0.55, cmap='viridis', vmin=0, vmax=1)
    axes[1, 0].text(0.5, 0.5, 'ground truth', ha='center', va='center', fontsize=12)
    axes[2, 0].text(0.5, 0.5, 'prediction', ha='center', va='center', fontsize=12)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(args.out)


if __name__ == '__main__':
    main()
