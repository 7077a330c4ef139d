from .cim_data_preprocessor import CIMDataPreprocessor
from .resim_data_preprocessor import ReSimDataPreprocessor

__all__ = ['CIMDataPreprocessor', 'ReSimDataPreprocessor']
