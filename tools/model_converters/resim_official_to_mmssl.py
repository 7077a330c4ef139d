"""Convert a ReSim checkpoint (reference release or mmssl_ext) for detection transfer.

    python tools/model_converters/resim_official_to_mmssl.py IN OUT
        [--with-fpn] [--encoder query|key] [--detector-first-level 2] [--backbone-only]

IN is the reference release (``resim_{c4,fpn}_*.pth.tar``, MoCo format with
``module.encoder_q.*``) or an mmssl_ext ReSim checkpoint. By default OUT holds the ResNet
as ``backbone.*`` for ``load_from=OUT`` in an mmdet config (mmdet's ``ResNet`` uses the
same names); ``--with-fpn`` adds the pre-trained FPN laterals and output convs on mmdet's
``neck.lateral_convs.<i>.conv`` / ``neck.fpn_convs.<i>.conv`` (ReSim-FPN^T; level C``l``
is index ``l - detector_first_level``, 2 for the standard R50-FPN).
``--backbone-only`` writes the ResNet without prefix, for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` on the backbone.
"""
import argparse

import torch

from mmssl_ext.converters import load_state_dict, resim_to_backbone, resim_to_mmdet


def main():
    parser = argparse.ArgumentParser(description='Convert a ReSim checkpoint for mmdet')
    parser.add_argument('src', help='reference release or mmssl_ext ReSim checkpoint')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--encoder', choices=['query', 'key'], default='query',
                        help='query encoder (default, as the paper) or momentum encoder')
    parser.add_argument('--with-fpn', action='store_true',
                        help='also transfer the FPN laterals / output convs')
    parser.add_argument('--detector-first-level', type=int, default=2,
                        help='C level of the detector FPN\'s first input (default 2)')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write the ResNet only, without prefix')
    args = parser.parse_args()
    if args.backbone_only and args.with_fpn:
        parser.error('--with-fpn and --backbone-only exclude each other')

    state_dict = load_state_dict(args.src)
    meta = {'converted_from': 'ReSim', 'encoder': args.encoder}
    if args.backbone_only:
        converted = resim_to_backbone(state_dict, args.encoder)
    else:
        converted, report = resim_to_mmdet(state_dict, args.encoder, args.with_fpn,
                                           args.detector_first_level)
        print(report)
    torch.save({'meta': meta, 'state_dict': converted}, args.dst)
    print(f'wrote {len(converted)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
