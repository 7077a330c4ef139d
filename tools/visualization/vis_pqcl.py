"""Draw the attention of a PQCL checkpoint's last block.

Row 1: the global view (the centre square of the image, resized to the config's
global size) with a query crop's box, the query crop, and where the query tokens
attend in the global view (last block, mean over heads and query tokens; then the
query token at the crop's centre). Row 2: the class token's attention to the patches
of the global view, per head. The class-token maps use ``--encoder`` (default: the
teacher, the evaluation convention); the query maps use the student, whose query
stream is the one trained.

    python tools/visualization/vis_pqcl.py CONFIG CHECKPOINT IMAGE [--out pqcl.png]
        [--seed 0] [--encoder teacher|student]
"""
import argparse

import cv2
import matplotlib
import numpy as np
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS, TRANSFORMS
from mmssl_ext.structures import query_patch_coords
from mmssl_ext.utils.checkpoint_kind import load_checked

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Visualise PQCL attention maps')
    parser.add_argument('config', help='PQCL pre-training config')
    parser.add_argument('checkpoint', help='PQCL checkpoint')
    parser.add_argument('image', help='an image file')
    parser.add_argument('--out', default='pqcl_attention.png', help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help='seed of the query crop')
    parser.add_argument('--encoder', choices=['teacher', 'student'], default='teacher',
                        help='encoder of the class-token maps')
    parser.add_argument('--no-checkpoint-check', action='store_true',
                        help='load a checkpoint of another kind (what fits)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


@torch.no_grad()
def last_block_attention(backbone, images, coords=None) -> torch.Tensor:
    """Attention probabilities of the last block.

    Args:
        backbone (QueryViT): the encoder.
        images (Tensor): (1, 3, S, S) normalised.
        coords (Tensor, optional): (1, Lq, 2) query coordinates.

    Returns:
        Tensor: (heads, L + Lq, L) attention of every token to the global tokens
        (global rows: softmax over global tokens; query rows: over all tokens).
    """
    captured = {}
    layer = backbone.layers[-1]
    handle = layer.ln1.register_forward_hook(
        lambda module, args, output: captured.__setitem__('x', output))
    backbone.forward_tokens(images, None, coords)
    handle.remove()
    normed = captured['x'][0]  # (L + Lq, D)
    attn = layer.attn
    qkv = attn.qkv(normed).view(len(normed), 3, attn.num_heads, attn.head_dims)
    query, key = qkv[:, 0].transpose(0, 1), qkv[:, 1].transpose(0, 1)  # (heads, T, d)
    scores = query @ key.transpose(1, 2) * attn.head_dims**-0.5
    num_global = 1 + backbone.patch_resolution[0] * backbone.patch_resolution[1]
    if len(normed) > num_global:  # globals never see the queries
        scores[:, :num_global, num_global:] = float('-inf')
    return scores.softmax(-1)[:, :, :num_global]


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    load_checked(model, args.checkpoint, check=not args.no_checkpoint_check)
    model = model.to(args.device).eval()
    student = model.backbone
    encoder = model.teacher_backbone.module if args.encoder == 'teacher' else student
    views_cfg = next(t for t in cfg.train_dataloader.dataset.pipeline
                     if t['type'] == 'PQCLViews')
    views = TRANSFORMS.build(views_cfg)
    grid, query_grid = views.grid, views.query_grid
    size = views.global_crop.scale

    image = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'cannot read image {args.image}')
    height, width = image.shape[:2]
    side = min(height, width)
    global_box = ((height - side) // 2, (width - side) // 2, side, side)
    top, left = global_box[:2]
    global_view = cv2.resize(image[top:top + side, left:left + side], tuple(size),
                             interpolation=cv2.INTER_CUBIC)
    np.random.seed(args.seed)
    query_view, query_box = views._crop(image, views.query_crop)
    coords = query_patch_coords(query_box, global_box, False, grid, query_grid)[None]

    preprocessor = model.data_preprocessor

    def normalise(bgr: np.ndarray) -> torch.Tensor:
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1)
        return preprocessor.standardize(rgb[None].float().to(args.device))

    cls_attention = last_block_attention(encoder, normalise(global_view))[:, 0, 1:]
    query_attention = last_block_attention(student, normalise(global_view),
                                           coords.to(args.device))
    num_global = 1 + grid[0] * grid[1]
    query_attention = query_attention[:, num_global:, 1:]  # (heads, Lq, h*w)
    centre = (query_grid[0] // 2) * query_grid[1] + query_grid[1] // 2

    to_map = lambda a: a.reshape(grid).cpu().numpy()  # noqa: E731
    heads = cls_attention.shape[0]
    columns = max(heads, 4)
    figure, axes = plt.subplots(2, columns, figsize=(2.4 * columns, 5.2), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    rgb_global = global_view[..., ::-1]
    axes[0, 0].imshow(rgb_global)
    scale = size[0] / side
    q_top, q_left, q_h, q_w = [float(v) for v in query_box]
    axes[0, 0].add_patch(plt.Rectangle(((q_left - left) * scale, (q_top - top) * scale),
                                       q_w * scale, q_h * scale, fill=False, color='lime'))
    axes[0, 0].set_title('global view + query box', fontsize=8)
    axes[0, 1].imshow(query_view[..., ::-1])
    axes[0, 1].set_title('query crop', fontsize=8)
    for ax, attention, title in (
            (axes[0, 2], query_attention.mean((0, 1)), 'query tokens (mean)'),
            (axes[0, 3], query_attention[:, centre].mean(0), 'centre query token')):
        ax.imshow(rgb_global)
        ax.imshow(cv2.resize(to_map(attention), tuple(size), interpolation=cv2.INTER_NEAREST),
                  alpha=0.6, cmap='inferno')
        ax.set_title(title, fontsize=8)
    for head in range(heads):
        axes[1, head].imshow(to_map(cls_attention[head]), cmap='inferno')
        axes[1, head].set_title(f'{args.encoder} cls, head {head}', fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
