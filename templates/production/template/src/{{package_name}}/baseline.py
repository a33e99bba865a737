"""The baseline: a deliberately simple, well-understood model on the data file's own columns.

Median-impute and scale the numbers, one-hot the categories (at most 30 per column), TF-IDF the free
text (a column of sentences), then a logistic or ridge regression. The notebook's model must beat it
to be chosen.
"""

from __future__ import annotations

from . import settings as S

ID_NAMES = frozenset({"id", "index", "uuid", "key", "row_id", "rowid", "unnamed: 0"})


def looks_like_id(name: str, series) -> bool:
    lname = str(name).strip().lower()
    named = lname in ID_NAMES or lname.endswith(("_id", "_uuid", "_key"))
    unique = len(series) > 0 and series.nunique(dropna=False) == len(series)
    if named and unique:
        return True
    import pandas as pd

    # Identifiers: a non-numeric column with one value per row that is neither free text nor dates.
    return (unique and len(series) > 50 and not pd.api.types.is_numeric_dtype(series) and not is_text(series)
            and not holds_dates(series))


def holds_dates(series) -> bool:
    """Text that is dates ("1949-01-01", "1/31/1950"): the baseline uses it as a point in time."""
    import warnings

    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.dropna().astype(str).head(200)
    if len(values) < 5 or not values.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # each value on its own: a format inferred from the first value would refuse "24/03/2019" after "11/03/2019"
        return bool(pd.to_datetime(values, format="mixed", errors="coerce").notna().all())


def is_text(series) -> bool:
    """Free text: strings of several words, mostly distinct (messages, reviews, descriptions)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) or isinstance(
            series.dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(series):
        return False
    values = series.dropna().astype(str).head(2000)
    if len(values) < 20:
        return False
    words = values.str.count(r"\s+") + 1
    return float(words.mean()) >= 3 and values.nunique() >= 0.2 * len(values)


def raw_feature_columns(df, target: str = S.TARGET_SOURCE, time_column: str = S.TIME_COLUMN) -> list[str]:
    """All columns of the data file except the target (and what it derives from), the time column, ids."""
    skip = {target, S.TARGET, S.TARGET_SOURCE, time_column, *S.EXCLUDE_COLUMNS}
    return [c for c in df.columns if c not in skip and not looks_like_id(c, df[c])]


def _numeric_like(series) -> bool:
    from pandas.api import types as t

    return t.is_numeric_dtype(series) or t.is_bool_dtype(series) or t.is_datetime64_any_dtype(series)


def date_format(series) -> str:
    """The one format a column of dates is written in, decided on the training data.

    Parsed with one fixed format, a row means the same date alone and in a batch ("05/12/2019" is not
    May 12 in one request and December 5 in another, as pandas' per-call inference would make it).
    Where no single format reads every value, each value is parsed on its own ("mixed").
    """
    import warnings

    import pandas as pd
    try:
        from pandas.tseries.api import guess_datetime_format
    except ImportError:  # pandas older than 2.1
        return "mixed"

    values = series.dropna().astype(str)
    if values.empty:
        return "mixed"
    sample = values.head(2000)
    best, best_read = "mixed", -1
    for first in dict.fromkeys(sample.head(20)):
        for dayfirst in (False, True):
            fmt = guess_datetime_format(first, dayfirst=dayfirst)
            if not fmt:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
            if read > best_read:
                best, best_read = fmt, read
        if best_read == len(sample):
            return best
    return "mixed"


def prepare(X, dates=()):
    """The baseline's first step: booleans and dates (``dates``: text columns of dates, each mapped to the
    format it is written in) as numbers, every other non-number as text."""
    import warnings

    import numpy as np
    import pandas as pd
    from pandas.api import types as t

    out = {}
    for c in X.columns:
        s = X[c]
        if c in dates and not t.is_datetime64_any_dtype(s):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fmt = dates.get(c, "mixed") if isinstance(dates, dict) else "mixed"
                s = pd.to_datetime(s, format=fmt, errors="coerce")
        if t.is_datetime64_any_dtype(s):
            values = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
            out[c] = np.where(values.isna(), np.nan, values.astype("int64") / 1e9)
        elif t.is_bool_dtype(s) or (t.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)):
            out[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            text = s.astype(object)
            out[c] = text.where(text.isna(), text.astype(str)).where(text.notna(), np.nan)
    return pd.DataFrame(out, index=X.index)


def _column_of_text(X):
    """The one text column as a 1-D array of strings (what a vectorizer takes)."""
    import numpy as np

    return np.asarray(X, dtype=object).ravel().astype(str)


def build_baseline(X, task: str = S.TASK):
    """A deliberately simple, well-understood model on the raw columns, as the data file has them."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    dates = {c: date_format(X[c]) for c in X.columns if not _numeric_like(X[c]) and holds_dates(X[c])}
    numeric = [c for c in X.columns if (_numeric_like(X[c]) and not str(X[c].dtype) == "category") or c in dates]
    text = [c for c in X.columns if c not in numeric and is_text(X[c])]
    categorical = [c for c in X.columns if c not in numeric and c not in text]
    steps = []
    for c in text:
        from sklearn.feature_extraction.text import TfidfVectorizer

        steps.append((f"text_{len(steps)}", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="")),
            ("flatten", FunctionTransformer(_column_of_text)),
            ("tfidf", TfidfVectorizer(max_features=20_000, sublinear_tf=True)),
        ]), [c]))
    if numeric:
        steps.append(("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                       ("scale", StandardScaler())]), numeric))
    if categorical:
        steps.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=30)),
        ]), categorical))
    est = LogisticRegression(max_iter=1000) if task == "classification" else Ridge(alpha=1.0)
    return Pipeline([
        ("prepare", FunctionTransformer(prepare, kw_args={"dates": dates})),
        ("preprocess", ColumnTransformer(steps, remainder="drop")),
        ("model", est),
    ])
