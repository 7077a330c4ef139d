from .cim_exemplars import PackCIMInputs, SampleCIMExemplars

__all__ = ['PackCIMInputs', 'SampleCIMExemplars']
