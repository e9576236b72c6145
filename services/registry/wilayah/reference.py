"""The wilayah reference, by its old name: the loader lives in `services.registry.domain.wilayah` (next to the
identifier rules it shares with), this module keeps the imports of the wilayah API and older callers working."""

from services.registry.domain.wilayah import COLUMNS as COLUMNS
from services.registry.domain.wilayah import DEFAULT_DATA_FILE as DEFAULT_DATA_FILE
from services.registry.domain.wilayah import Wilayah as Wilayah
from services.registry.domain.wilayah import WilayahDataError as WilayahDataError
from services.registry.domain.wilayah import WilayahReference as WilayahReference
from services.registry.domain.wilayah import default_wilayah as default_wilayah
from services.registry.domain.wilayah import load_wilayah as load_wilayah
from services.registry.domain.wilayah import normalize_name as normalize_name
from services.registry.domain.wilayah import parse_wilayah_csv as parse_wilayah_csv
