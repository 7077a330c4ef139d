"""Convert an official release into mmssl_ext / backbone / mmdet checkpoints.

    python tools/model_converters/convert.py --from SOURCE IN OUT [--backbone-only]
        [--encoder NAME] [--format beit|vit] [--with-fpn] [--detector-first-level 2]

SOURCE and what OUT holds:

* ``cim-official`` (weivision/Correlational-Image-Modeling, ``{'model': ...}``): the whole
  mmssl_ext CIM model (``load_from=OUT`` continues pre-training); ``--backbone-only``:
  one encoder in mmpretrain ViT names (``--encoder online`` (default) or ``target``).
* ``cae-official`` (Atten4Vis/CAE) and ``cae-mmpretrain`` (mmpretrain's CAE checkpoint):
  the whole ContextAutoencoder; ``--backbone-only``: the encoder in mmpretrain
  ``BEiTViT`` names (``--format beit``, default) or ``VisionTransformer`` names with the
  q/v bias folded into ``qkv.bias`` (``--format vit``).
* ``pqcl-official`` (Sherrylone/PQCL, ``{'student': ..., 'teacher': ...}``): the whole
  mmssl_ext PQCL model (student, EMA teacher, head, centres); ``--backbone-only``: one
  encoder in mmpretrain ViT names (``--encoder teacher`` (default) or ``student``).
* ``resim-official`` (Tete-Xiao/ReSim, MoCo format) or an mmssl_ext ReSim checkpoint:
  mmdet weights ``backbone.*`` for ``load_from`` (``--with-fpn`` adds the pre-trained FPN
  on mmdet's levels, ReSim-FPN^T); ``--backbone-only``: the ResNet without prefix
  (``--encoder query`` (default) or ``key``).

Before converting, IN must have the source's layout (:data:`LAYOUTS`): a checkpoint of
another algorithm or architecture (e.g. a ViT given as ``resim-official``) is an error
naming the source and the keys it lacks.

Every release is read with ``torch.load(weights_only=True)`` and an explicit allow-list
(``argparse.Namespace`` for the training arguments some releases store); OUT is a plain
``{'meta': ..., 'state_dict': ...}``. The report of unused, recomputed and missing keys
is printed; a key the model needs that the release lacks is an error naming it.
"""
import argparse
import re

import torch

from mmssl_ext.converters import (cae_release_to_mmssl, cae_to_backbone,
                                  cim_official_to_mmssl, cim_to_backbone, load_state_dict,
                                  pqcl_official_to_mmssl, pqcl_to_backbone,
                                  resim_to_backbone, resim_to_mmdet)

SOURCES = ('cim-official', 'cae-official', 'cae-mmpretrain', 'pqcl-official',
           'resim-official')
ENCODERS = {'cim': ('online', 'target'), 'cae': ('encoder', ), 'pqcl': ('teacher', 'student'),
            'resim': ('query', 'key')}
OFFICIAL = {'cim': (cim_official_to_mmssl, cim_to_backbone),
            'pqcl': (pqcl_official_to_mmssl, pqcl_to_backbone)}

#: source -> alternative layouts; a layout is a set of key patterns (regular expressions
#: matched at the start of a key) that each match at least one key of IN.
LAYOUTS = {
    'cim-official': ((r'blocks\.\d+\.attn\.qkv\.', r'blocks_c\.\d+\.',
                      r'decoder_corr_block\.'), ),
    'cae-official': ((r'(module\.)?encoder\.blocks\.\d+\.attn\.q_bias',
                      r'(module\.)?regresser\.regressor_blocks\.'), ),
    'cae-mmpretrain': ((r'backbone\.layers\.\d+\.attn\.q_bias', r'neck\.regressors\.'), ),
    'pqcl-official': ((r'student$', r'teacher$'), ),
    'resim-official': ((r'module\.encoder_q\.layer1\.0\.conv1\.weight', ),
                       (r'backbone\.layer1\.0\.conv1\.weight',
                        r'momentum_encoder\.module\.backbone\.layer1\.0\.conv1\.weight')),
}


def check_layout(source: str, state_dict: dict) -> None:
    """Refuse a checkpoint that does not have ``source``'s layout, naming what it lacks."""
    lacking = []
    for layout in LAYOUTS[source]:
        missing = [pattern for pattern in layout
                   if not any(re.match(pattern, key) for key in state_dict)]
        if not missing:
            return
        lacking.append(missing)
    sample = ', '.join(list(state_dict)[:4])
    raise ValueError(f'the checkpoint is not a {source} checkpoint: it has no key like '
                     + ' or '.join(' + '.join(missing) for missing in lacking).replace('\\', '')
                     + f' (its keys start with {sample}, ...)')


def convert(source: str, state_dict: dict, args: argparse.Namespace):
    """(converted state dict, meta, report or None) for one release."""
    algorithm = source.split('-')[0]
    encoder = args.encoder or ENCODERS[algorithm][0]
    if encoder not in ENCODERS[algorithm]:
        raise ValueError(f'--encoder for {source} must be one of {ENCODERS[algorithm]}, '
                         f'got {encoder!r}')
    meta = dict(converted_from=source)
    if args.backbone_only:
        meta['encoder'] = encoder
    if algorithm == 'resim':
        if args.backbone_only:
            return resim_to_backbone(state_dict, encoder), meta, None
        converted, report = resim_to_mmdet(state_dict, encoder, args.with_fpn,
                                           args.detector_first_level)
        return converted, meta, report
    if algorithm in OFFICIAL:
        to_mmssl, to_backbone = OFFICIAL[algorithm]
        converted, report = to_mmssl(state_dict)
        if args.backbone_only:
            converted = to_backbone(converted, encoder)
        return converted, meta, report
    converted, report = cae_release_to_mmssl(state_dict, source.split('-')[1])
    if args.backbone_only:
        meta['format'] = args.format or 'beit'
        converted = cae_to_backbone(converted, encoder, meta['format'])
    return converted, meta, report


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert an official release')
    parser.add_argument('--from', dest='source', required=True, choices=SOURCES,
                        help='which release IN is')
    parser.add_argument('src', help='release checkpoint')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write the transferred encoder only, without prefix')
    parser.add_argument('--encoder', help='which encoder (default: the paper\'s choice)')
    parser.add_argument('--format', choices=['beit', 'vit'],
                        help='CAE --backbone-only key names (default: beit)')
    parser.add_argument('--with-fpn', action='store_true',
                        help='ReSim: also the FPN laterals / output convs for mmdet')
    parser.add_argument('--detector-first-level', type=int, default=2,
                        help='ReSim: C level of the detector FPN\'s first input')
    args = parser.parse_args(argv)
    if args.format and not (args.backbone_only and args.source.startswith('cae')):
        parser.error('--format applies to cae-* sources with --backbone-only')
    if args.encoder and not args.backbone_only and args.source != 'resim-official':
        parser.error('--encoder needs --backbone-only (the whole model keeps every encoder)')
    if args.with_fpn and (args.backbone_only or args.source != 'resim-official'):
        parser.error('--with-fpn applies to resim-official without --backbone-only')
    return args


def main(argv=None):
    args = parse_args(argv)
    state_dict = load_state_dict(args.src)
    check_layout(args.source, state_dict)
    converted, meta, report = convert(args.source, state_dict, args)
    if report is not None:
        print(report)
    torch.save({'meta': meta, 'state_dict': converted}, args.dst)
    print(f'wrote {len(converted)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
