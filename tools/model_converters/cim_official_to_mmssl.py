"""Convert the reference CIM release into mmssl_ext checkpoints.

    python tools/model_converters/cim_official_to_mmssl.py IN OUT
        [--backbone-only [--encoder online|target]]

Without --backbone-only, OUT is an mmengine checkpoint of the whole CIM model (use it as
``load_from=OUT`` to continue pre-training from the released weights, online and target
encoders and decoder, with configs/cim/vit-b_300e_in1k.py; the release has no optimizer
state, so it is a ``load_from``, not a ``--resume``).
With it, OUT holds the encoder only, in mmpretrain names without prefix, for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` in mmpretrain / mmdet / mmseg.
The conversion report (unused contrastive-branch keys, recomputed tables, warnings) is
printed; a key the model needs and the release lacks is an error naming it.
"""
import argparse

import torch

from mmssl_ext.converters import cim_official_to_mmssl, cim_to_backbone, load_state_dict


def main():
    parser = argparse.ArgumentParser(description='Convert the reference CIM checkpoint')
    parser.add_argument('src', help='reference checkpoint ({"model": ...})')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--backbone-only', action='store_true', help='write the encoder only')
    parser.add_argument('--encoder', choices=['online', 'target'],
                        help='encoder for --backbone-only (default: online, which the '
                        'reference fine-tunes)')
    args = parser.parse_args()
    if args.encoder and not args.backbone_only:
        parser.error('--encoder needs --backbone-only')

    converted, report = cim_official_to_mmssl(load_state_dict(args.src))
    print(report)
    meta = {'converted_from': 'CIM reference release'}
    if args.backbone_only:
        meta['encoder'] = args.encoder or 'online'
        converted = cim_to_backbone(converted, meta['encoder'])
    torch.save({'meta': meta, 'state_dict': converted}, args.dst)
    print(f'wrote {len(converted)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
