"""Import names -> PyPI distributions, conda names -> PyPI names, declared aliases -> real distributions."""

from __future__ import annotations

import difflib
import re
import sys

# Import name (top-level, or two components for namespace packages) -> PyPI distribution.
# ``None`` means "not installable from PyPI" (hosted-notebook-only modules).
IMPORT_TO_DIST: dict[str, str | None] = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "yaml": "PyYAML",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "IPython": "ipython",
    "imblearn": "imbalanced-learn",
    "Bio": "biopython",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "attr": "attrs",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "PyMuPDF",
    "jwt": "PyJWT",
    "serial": "pyserial",
    "magic": "python-magic",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "psycopg2": "psycopg2-binary",
    "win32api": "pywin32",
    "pywt": "PyWavelets",
    "skopt": "scikit-optimize",
    "umap": "umap-learn",
    "category_encoders": "category-encoders",
    "pandas_profiling": "pandas-profiling",
    "ydata_profiling": "ydata-profiling",
    "sentence_transformers": "sentence-transformers",
    "pytorch_lightning": "pytorch-lightning",
    "keras_tuner": "keras-tuner",
    "kerastuner": "keras-tuner",
    "tensorflow_hub": "tensorflow-hub",
    "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_addons": "tensorflow-addons",
    "scikitplot": "scikit-plot",
    "autosklearn": "auto-sklearn",
    "pandas_datareader": "pandas-datareader",
    "sklearn_pandas": "sklearn-pandas",
    "Levenshtein": "Levenshtein",
    "more_itertools": "more-itertools",
    "google.cloud": "google-cloud-storage",
    "google.protobuf": "protobuf",
    "google.generativeai": "google-generativeai",
    "googleapiclient": "google-api-python-client",
    "mpl_toolkits": "matplotlib",
    "fbprophet": "prophet",  # renamed in 2021; the module's imports are rewritten to prophet
    "pyramid.arima": "pmdarima",  # pyramid-arima, renamed pmdarima (`pyramid` alone is the web framework)
    "vaderSentiment": "vaderSentiment",
    "google.colab": None,
    "kaggle_secrets": None,
    "kaggle_datasets": None,
    "kaggle_web_client": None,
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "statsmodels": "statsmodels",
    "torch": "torch",
    "torchvision": "torchvision",
    "torchaudio": "torchaudio",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "plotly": "plotly",
    "seaborn": "seaborn",
    "tqdm": "tqdm",
    "optuna": "optuna",
    "shap": "shap",
    "numpy": "numpy",
    "pandas": "pandas",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
    "joblib": "joblib",
    "lime": "lime",
    "eli5": "eli5",
    "mlxtend": "mlxtend",
    "prophet": "prophet",
    "pmdarima": "pmdarima",
    "sktime": "sktime",
    "tsfresh": "tsfresh",
    "numba": "numba",
    "bokeh": "bokeh",
    "altair": "altair",
    "folium": "folium",
    "geopandas": "geopandas",
    "shapely": "shapely",
    "networkx": "networkx",
    "requests": "requests",
    "transformers": "transformers",
    "datasets": "datasets",
    "tokenizers": "tokenizers",
    "sentencepiece": "sentencepiece",
    "lxml": "lxml",
    "h5py": "h5py",
    "tables": "tables",
    "pydot": "pydot",
    "pydotplus": "pydotplus",
    "graphviz": "graphviz",
    "missingno": "missingno",
    "pycaret": "pycaret",
    "mlflow": "mlflow",
    "hyperopt": "hyperopt",
    "sympy": "sympy",
    "ipywidgets": "ipywidgets",
    "lightning": "lightning",
    "jax": "jax",
    "flax": "flax",
    "fastai": "fastai",
    "yellowbrick": "yellowbrick",
    "featuretools": "featuretools",
    "kaggle": "kaggle",
    "gym": "gym",
    "gymnasium": "gymnasium",
    "cvxpy": "cvxpy",
    "pulp": "PuLP",
    "tabulate": "tabulate",
    "termcolor": "termcolor",
    "click": "click",
    "pydantic": "pydantic",
    "fastapi": "fastapi",
    "flask": "Flask",
    "streamlit": "streamlit",
    "gradio": "gradio",
    "dash": "dash",
    "boto3": "boto3",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "imageio": "imageio",
    "librosa": "librosa",
    "soundfile": "soundfile",
    "emoji": "emoji",
    "unidecode": "Unidecode",
    "xlsxwriter": "XlsxWriter",
    "openpyxl": "openpyxl",
    "xlrd": "xlrd",
    "pyarrow": "pyarrow",
    "fastparquet": "fastparquet",
    "polars": "polars",
    "dask": "dask",
    "pyspark": "pyspark",
    "gensim": "gensim",
    "nltk": "nltk",
    "spacy": "spacy",
    "textblob": "textblob",
    "wordcloud": "wordcloud",
    "albumentations": "albumentations",
    "timm": "timm",
    "einops": "einops",
    "wandb": "wandb",
    "tensorboard": "tensorboard",
    "rpy2": "rpy2",
    "pymc3": "pymc3",
    "pymc": "pymc",
    "arviz": "arviz",
    "lifelines": "lifelines",
    "plotnine": "plotnine",
    "patsy": "patsy",
    "tpot": "tpot",
    "h2o": "h2o",
    "pyLDAvis": "pyLDAvis",
    "dtreeviz": "dtreeviz",
    "interpret": "interpret",
    "yfinance": "yfinance",
    "tweepy": "tweepy",
    "selenium": "selenium",
    "scrapy": "Scrapy",
    "jinja2": "Jinja2",
    "toml": "toml",
    "ujson": "ujson",
    "orjson": "orjson",
    "simplejson": "simplejson",
    "regex": "regex",
    "chardet": "chardet",
    "sqlalchemy": "SQLAlchemy",
    "pymongo": "pymongo",
    "redis": "redis",
    "psutil": "psutil",
    "cloudpickle": "cloudpickle",
    "dill": "dill",
    "skops": "skops",
    "xarray": "xarray",
    "netCDF4": "netCDF4",
    "pyproj": "pyproj",
    "cartopy": "Cartopy",
    "rasterio": "rasterio",
    "nibabel": "nibabel",
    "pydicom": "pydicom",
    "tifffile": "tifffile",
    "gdown": "gdown",
    "opendatasets": "opendatasets",
    "kagglehub": "kagglehub",
    "pyod": "pyod",
    "imgaug": "imgaug",
    "hdbscan": "hdbscan",
    "ta": "ta",
    "quandl": "Quandl",
    "praw": "praw",
    "markdown": "Markdown",
    "typer": "typer",
    "httpx": "httpx",
    "aiohttp": "aiohttp",
    "pytest": "pytest",
    "sqlparse": "sqlparse",
    "pywaffle": "pywaffle",
    "squarify": "squarify",
    "pingouin": "pingouin",
    "scikeras": "scikeras",
    "evaluate": "evaluate",
    "accelerate": "accelerate",
    "openai": "openai",
    "langchain": "langchain",
    "tiktoken": "tiktoken",
    "faiss": "faiss-cpu",
}

# Modules that only exist under Python 2 (or were renamed in Python 3).
PYTHON2_MODULES = {
    "cPickle": "pickle",
    "urllib2": "urllib.request",
    "StringIO": "io",
    "cStringIO": "io",
    "ConfigParser": "configparser",
    "Queue": "queue",
    "commands": "subprocess",
    "HTMLParser": "html.parser",
    "httplib": "http.client",
    "urlparse": "urllib.parse",
    "__builtin__": "builtins",
    "sets": "set",
    "Tkinter": "tkinter",
    "thread": "threading",
    "exceptions": "builtins",
}

NAMESPACE_PACKAGES = {"google", "azure", "mpl_toolkits", "backports", "jaraco", "zope",
                      "pyramid"}  # pyramid.arima is pmdarima's old name, not the web framework

# Conda package names that differ on PyPI; ``None`` means "not a Python package" (skipped).
CONDA_TO_PYPI: dict[str, str | None] = {
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "py-lightgbm": "lightgbm",
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "matplotlib-base": "matplotlib",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "libopencv": None,
    "pytables": "tables",
    "tensorflow-gpu": "tensorflow",
    "keras-gpu": "keras",
    "python-graphviz": "graphviz",
    "graphviz": None,
    "py-catboost": "catboost",
    "pillow": "Pillow",
    "pyyaml": "PyYAML",
    "beautifulsoup4": "beautifulsoup4",
    "python-dateutil": "python-dateutil",
    "python": None,
    "pip": None,
    "setuptools": None,
    "wheel": None,
    "conda": None,
    "anaconda": None,
    "openssl": None,
    "ca-certificates": None,
    "certifi": None,
    "cudatoolkit": None,
    "cudnn": None,
    "cuda-toolkit": None,
    "ipykernel": None,
    "jupyter": None,
    "notebook": None,
    "jupyterlab": None,
    "nb_conda": None,
    "nb_conda_kernels": None,
    "nodejs": None,
    "vs2015_runtime": None,
    "vc": None,
    "intel-openmp": None,
    "blas": None,
    "tk": None,
    "xz": None,
    "zlib": None,
    "sqlite": None,
    "readline": None,
    "ncurses": None,
    "bzip2": None,
    "tbb": None,
    "icu": None,
    "qt": None,
    "pyqt": None,
    "sip": None,
    "tzdata": None,
    "openblas": None,
    "krb5": None,
    "hdf5": None,
    "freetype": None,
}
_CONDA_SYSTEM = re.compile(r"^(lib|_|mkl|r-|cuda|nvidia|intel-|llvm|gcc|gxx|gfortran|msys2|m2-|vs20|ucrt)")

# Declared names that are not the distribution people meant: PyPI's deprecated dummies (``sklearn``,
# ``skimage``, ``imblearn``: they fail to install or only pull the real one), removed packages
# (``tensorflow-gpu``), and import names written as distribution names (``cv2``, ``PIL``, ``yaml``).
DECLARED_ALIASES = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "imblearn": "imbalanced-learn",
    "bs4": "beautifulsoup4",
    "pytorch": "torch",
    "tensorflow-gpu": "tensorflow",
    "keras-gpu": "keras",
    "cv2": "opencv-python",
    "opencv": "opencv-python",
    "pil": "Pillow",
    "yaml": "PyYAML",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
}

KNOWN_IMPORTS = frozenset(IMPORT_TO_DIST) | frozenset(PYTHON2_MODULES)


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def import_key(dotted_name: str) -> str:
    """The module name an import is recorded under: top level, or two parts for namespace packages."""
    parts = dotted_name.split(".")
    if parts[0] in NAMESPACE_PACKAGES and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def is_stdlib(name: str) -> bool:
    top = name.split(".")[0]
    return top in sys.stdlib_module_names or top == "__future__"


def distribution_for(module: str) -> tuple[str | None, bool]:
    """(distribution, known) for an import key; unknown modules map to themselves."""
    if module in IMPORT_TO_DIST:
        return IMPORT_TO_DIST[module], True
    top = module.split(".")[0]
    if top in IMPORT_TO_DIST:
        return IMPORT_TO_DIST[top], True
    return module.replace("_", "-") if module.isidentifier() else module, False


def close_match(module: str) -> str | None:
    """A well-known import name ``module`` is probably a typo of (``sklearnn`` -> ``sklearn``)."""
    top = module.split(".")[0]
    matches = difflib.get_close_matches(top, sorted(KNOWN_IMPORTS), n=1, cutoff=0.85)
    return matches[0] if matches and matches[0] != top else None


def declared_distribution(name: str) -> str:
    """The distribution a declared name stands for: ``sklearn`` -> ``scikit-learn``, others unchanged."""
    return DECLARED_ALIASES.get(normalise(name), name)


def conda_to_pypi(name: str) -> str | None:
    low = name.lower()
    if low in CONDA_TO_PYPI:
        return CONDA_TO_PYPI[low]
    if _CONDA_SYSTEM.match(low):
        return None
    return name
