from .cim_data_preprocessor import CIMDataPreprocessor

__all__ = ['CIMDataPreprocessor']
