from .cim_data_preprocessor import CIMDataPreprocessor
from .pqcl_data_preprocessor import PQCLDataPreprocessor
from .resim_data_preprocessor import ReSimDataPreprocessor

__all__ = ['CIMDataPreprocessor', 'PQCLDataPreprocessor', 'ReSimDataPreprocessor']
