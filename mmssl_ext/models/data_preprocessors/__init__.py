from .cim_data_preprocessor import CIMDataPreprocessor
from .pqcl_data_preprocessor import PQCLDataPreprocessor
from .resim_data_preprocessor import ReSimDataPreprocessor
from .rgb_data_preprocessor import RGBDataPreprocessor

__all__ = ['CIMDataPreprocessor', 'PQCLDataPreprocessor', 'ReSimDataPreprocessor',
           'RGBDataPreprocessor']
