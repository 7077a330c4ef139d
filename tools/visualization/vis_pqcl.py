"""Draw the attention of a PQCL checkpoint's last block.

Row 1: the global view (the centre square of the image, resized to the config's
global size) with a query crop's box, the query crop, and where the query tokens
attend in the global view (last block, mean over heads and query tokens; then the
query token at the crop's centre). Row 2: the class token's attention to the patches
of the global view, per head. The class-token maps use ``--encoder`` (default: the
teacher, the evaluation convention); the query maps use the student, whose query
stream is the one trained.

Then it prints (and writes under the picture) whether the query tokens' attention
concentrates on the queried region (:func:`mmssl_ext.evaluation.attention_concentration`),
on ``--eval-images`` (files or folders; default: IMAGE) with ``--eval-draws`` query
crops each: the share of the query tokens' last-block attention to the global
patches (mean over heads and query tokens) that falls on the patches whose centres
lie in the query box, against that box's share of the patches (uniform attention),
and their ratio (lift; 1 = no concentration). Crops whose box covers no patch centre
of the global view are skipped.

    python tools/visualization/vis_pqcl.py CONFIG CHECKPOINT IMAGE [--out pqcl.png]
        [--seed 0] [--encoder teacher|student] [--eval-images DIR_OR_FILE ...]
        [--eval-draws 8]
"""
import cv2
import matplotlib
import numpy as np
import torch

import mmssl_ext  # noqa: F401
from mmpretrain.registry import TRANSFORMS
from mmssl_ext.evaluation import attention_concentration
from mmssl_ext.structures import query_patch_coords
from mmssl_ext.utils.image import list_images
from vis_common import load_model, visualiser_parser

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = visualiser_parser('Visualise PQCL attention maps', 'PQCL pre-training config',
                               'pqcl_attention.png', 'query crop', 'the query attention',
                               'query crops per evaluation image')
    parser.add_argument('--encoder', choices=['teacher', 'student'], default='teacher',
                        help='encoder of the class-token maps')
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


def read_image(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return image


def centre_view(image: np.ndarray, size) -> tuple:
    """The centre square of a BGR image resized to ``size`` (the global view) and
    its (top, left, side, side) box."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    view = cv2.resize(image[top:top + side, left:left + side], tuple(size),
                      interpolation=cv2.INTER_CUBIC)
    return view, (top, left, side, side)


def box_cells(query_box, global_box, grid) -> torch.Tensor:
    """(h*w, ) bool: global patches whose centres lie inside the query box."""
    q_top, q_left, q_h, q_w = map(float, query_box)
    top, left, side, _ = map(float, global_box)
    rows = top + (torch.arange(grid[0]) + 0.5) * side / grid[0]
    cols = left + (torch.arange(grid[1]) + 0.5) * side / grid[1]
    inside_rows = (rows >= q_top) & (rows <= q_top + q_h)
    inside_cols = (cols >= q_left) & (cols <= q_left + q_w)
    return (inside_rows[:, None] & inside_cols[None, :]).flatten()


class QueryAttention:
    """Draws query crops of an image and the student's query attention for them."""

    def __init__(self, model, views, device):
        self.model, self.views, self.device = model, views, device
        self.grid, self.query_grid = views.grid, views.query_grid

    def normalise(self, bgr: np.ndarray) -> torch.Tensor:
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1)
        return self.model.data_preprocessor.standardize(rgb[None].float().to(self.device))

    def __call__(self, image: np.ndarray, global_view: np.ndarray, global_box):
        """A random query crop, its box and the (heads, Lq, h*w) query attention."""
        query_view, query_box = self.views._crop(image, self.views.query_crop)
        coords = query_patch_coords(query_box, global_box, False, self.grid, self.query_grid)
        attention = last_block_attention(self.model.backbone, self.normalise(global_view),
                                         coords[None].to(self.device))
        num_global = 1 + self.grid[0] * self.grid[1]
        return query_view, query_box, attention[:, num_global:, 1:]


def measure(query_attention: QueryAttention, paths, draws: int, size) -> tuple:
    """Mean attention concentration over ``draws`` query crops of each image."""
    results = []
    for path in paths:
        image = read_image(path)
        global_view, global_box = centre_view(image, size)
        for _ in range(draws):
            _, query_box, attention = query_attention(image, global_view, global_box)
            region = box_cells(query_box, global_box, query_attention.grid)
            if region.any():
                results.append(attention_concentration(attention.flatten(0, 1).cpu(), region))
    if not results:
        raise ValueError('no query crop covered a patch of the global view')
    mean = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
    return mean, len(results)


def describe(result: dict, num_crops: int, num_images: int) -> str:
    return (f'query attention on {num_crops} query crops of {num_images} image(s): '
            f'{100 * result["inside"]:.1f}% of the query tokens\' attention to the global '
            f'patches falls on the queried region, which holds {100 * result["uniform"]:.1f}% '
            f'of the patches (uniform attention); lift {result["lift"]:.2f} (1 = none)')


def main():
    args = parse_args()
    cfg, model = load_model(args)
    encoder = model.teacher_backbone.module if args.encoder == 'teacher' else model.backbone
    views_cfg = next(t for t in cfg.train_dataloader.dataset.pipeline
                     if t['type'] == 'PQCLViews')
    views = TRANSFORMS.build(views_cfg)
    grid, query_grid = views.grid, views.query_grid
    size = views.global_crop.scale
    query_attention = QueryAttention(model, views, args.device)

    image = read_image(args.image)
    global_view, global_box = centre_view(image, size)
    top, left, side, _ = global_box
    np.random.seed(args.seed)
    query_view, query_box, query_maps = query_attention(image, global_view, global_box)
    cls_attention = last_block_attention(encoder, query_attention.normalise(global_view))
    cls_attention = cls_attention[:, 0, 1:]
    centre = (query_grid[0] // 2) * query_grid[1] + query_grid[1] // 2
    eval_paths = list_images(args.eval_images or [args.image])
    summary = describe(*measure(query_attention, eval_paths, args.eval_draws, size),
                       len(eval_paths))

    to_map = lambda a: a.reshape(grid).cpu().numpy()  # noqa: E731
    heads = cls_attention.shape[0]
    columns = max(heads, 4)
    figure, axes = plt.subplots(2, columns, figsize=(2.4 * columns, 5.8), squeeze=False)
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
            (axes[0, 2], query_maps.mean((0, 1)), 'query tokens (mean)'),
            (axes[0, 3], query_maps[:, centre].mean(0), 'centre query token')):
        ax.imshow(rgb_global)
        ax.imshow(cv2.resize(to_map(attention), tuple(size), interpolation=cv2.INTER_NEAREST),
                  alpha=0.6, cmap='inferno')
        ax.set_title(title, fontsize=8)
    for head in range(heads):
        axes[1, head].imshow(to_map(cls_attention[head]), cmap='inferno')
        axes[1, head].set_title(f'{args.encoder} cls, head {head}', fontsize=8)
    figure.text(0.5, 0.01, summary.replace('; ', ';\n'), ha='center', va='bottom',
                fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(args.out, dpi=100)
    print(f'wrote {args.out}')
    print(summary)


if __name__ == '__main__':
    main()
