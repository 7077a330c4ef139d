"""Draw what a pixel-target CAE checkpoint reconstructs (the paper's Figure 4 idea).

For one image and a few block masks drawn as in training: the original, the masked
input the encoder sees, the decoder's reconstruction of the masked patches, and that
reconstruction with the visible patches pasted back. Predicted patches are per-patch
normalised, so each is shown with the mean and variance of the true patch (as MAE's
visualisation does). Saved as a PNG.

Because the picture borrows each true patch's mean and variance, it flatters the
model; so the tool also prints (and writes under the picture) the error where the
model is trained, on the per-patch normalised pixels of the masked patches
(:func:`mmssl_ext.evaluation.masked_patch_errors`), against filling every hole with
the image's mean visible patch and with zeros (the mean of any normalised patch,
error about 1), on ``--eval-images`` (files or folders; default: IMAGE) with
``--eval-draws`` masks each.

    python tools/visualization/vis_cae.py CONFIG CHECKPOINT IMAGE [--out cae.png]
        [--num-masks 3] [--seed 0] [--eval-images DIR_OR_FILE ...] [--eval-draws 8]
"""
import matplotlib
import numpy as np
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import TRANSFORMS
from mmssl_ext.evaluation import masked_patch_errors
from mmssl_ext.models.utils.patch_pixels import normalized_patch_pixels
from mmssl_ext.utils.image import list_images, load_square_image
from vis_common import load_model, visualiser_parser

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = visualiser_parser('Visualise CAE reconstructions',
                               'CAE pre-training config with pixel targets',
                               'cae_reconstruction.png', 'masks', 'the reconstruction',
                               'masks per evaluation image')
    parser.add_argument('--num-masks', type=int, default=3, help='rows: masks drawn')
    return parser.parse_args()


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, N, p*p*3), the layout of the pixel targets."""
    batch, channels, height, width = images.shape
    patches = images.view(batch, channels, height // patch, patch, width // patch, patch)
    return patches.permute(0, 2, 4, 3, 5, 1).reshape(batch, -1, patch * patch * channels)


def unpatchify(patches: torch.Tensor, patch: int, grid: int) -> torch.Tensor:
    """Inverse of :func:`patchify` for a square grid."""
    batch = patches.shape[0]
    images = patches.view(batch, grid, grid, patch, patch, 3).permute(0, 5, 1, 3, 2, 4)
    return images.reshape(batch, 3, grid * patch, grid * patch)


def mask_generator(cfg: Config):
    """The config's BlockwiseMaskGenerator (same settings as in training)."""
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'BlockwiseMaskGenerator':
            return TRANSFORMS.build(step)
    raise ValueError('the config has no BlockwiseMaskGenerator in its training pipeline')


def load_normalised(path: str, size: int, preprocessor) -> torch.Tensor:
    """(1, 3, size, size) image normalised as in training."""
    bgr = load_square_image(path, size)
    rgb = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1).float()[None]
    return (rgb.to(preprocessor.mean.device) - preprocessor.mean) / preprocessor.std


@torch.no_grad()
def reconstruct(model, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(B, Nm, p*p*3) predicted normalised pixels of the masked patches."""
    visible = model.backbone(images, masks)
    return model.neck(visible[:, 1:], masks)[1]


def draw_masks(generator, num: int, device) -> torch.Tensor:
    """(num, N) bool block masks drawn as in training."""
    masks = np.stack([generator.generate() for _ in range(num)])
    return torch.from_numpy(masks).flatten(1).bool().to(device)


def measure(model, generator, paths, draws: int, size: int, patch: int) -> dict:
    """Masked-patch errors over ``draws`` masks on each image of ``paths``."""
    images = torch.cat([load_normalised(p, size, model.data_preprocessor) for p in paths])
    images = images.repeat_interleave(draws, 0)
    masks = draw_masks(generator, len(images), images.device)
    predictions = reconstruct(model, images, masks)
    return masked_patch_errors(predictions, normalized_patch_pixels(images, patch), masks)


def describe(result: dict, num_images: int, draws: int) -> str:
    return (f'masked-patch reconstruction on {num_images} image(s) x {draws} masks, '
            f'per-patch normalised pixels (the training target): MSE {result["model"]:.3f}; '
            f'mean visible patch {result["mean_visible"]:.3f}, zeros '
            f'{result["zeros"]:.3f}; ratio to the mean visible patch '
            f'{result["ratio"]:.2f} (< 1: better than the trivial fill)')


def main():
    args = parse_args()
    cfg, model = load_model(args)
    if model.head.target != 'pixels':
        raise ValueError('the visualiser needs a pixel-target CAE (head.target=pixels)')
    patch = model.backbone.patch_embed.projection.kernel_size[0]
    size = model.backbone.img_size[0]
    grid = size // patch

    np.random.seed(args.seed)
    generator = mask_generator(cfg)
    masks = draw_masks(generator, args.num_masks, args.device)  # (M, N)
    preprocessor = model.data_preprocessor
    images = load_normalised(args.image, size, preprocessor).expand(args.num_masks, -1, -1, -1)
    predictions = reconstruct(model, images, masks)
    eval_paths = list_images(args.eval_images or [args.image])
    summary = describe(measure(model, generator, eval_paths, args.eval_draws, size, patch),
                       len(eval_paths), args.eval_draws)
    true_patches = patchify(images, patch)
    mean = true_patches.mean(-1, keepdim=True)
    std = (true_patches.var(-1, keepdim=True) + 1e-6).sqrt()
    predicted = torch.zeros_like(true_patches)
    predicted[masks] = (predictions * std[masks].view_as(predictions[..., :1])
                        + mean[masks].view_as(predictions[..., :1])).flatten(0, 1)
    pasted = torch.where(masks[..., None], predicted, true_patches)
    masked_input = torch.where(masks[..., None], torch.zeros_like(true_patches), true_patches)

    def to_rgb(patches: torch.Tensor) -> np.ndarray:
        image = unpatchify(patches, patch, grid) * preprocessor.std + preprocessor.mean
        return image.clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()

    panels = {'original': to_rgb(true_patches), 'masked input': to_rgb(masked_input),
              'reconstruction': to_rgb(predicted), 'reconstruction + visible': to_rgb(pasted)}
    figure, axes = plt.subplots(args.num_masks, 4, figsize=(10, 2.6 * args.num_masks + 0.6),
                                squeeze=False)
    for row in range(args.num_masks):
        for column, (title, pictures) in enumerate(panels.items()):
            axes[row, column].imshow(pictures[row])
            axes[row, column].axis('off')
            if row == 0:
                axes[row, column].set_title(title)
    figure.text(0.5, 0.01, summary.replace('; ', ';\n'), ha='center', va='bottom',
                fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.6 / (2.6 * args.num_masks + 0.6), 1, 1))
    figure.savefig(args.out, dpi=100)
    print(args.out)
    print(summary)


if __name__ == '__main__':
    main()
