"""What kind of object a class is: model or transformer, its task and framework (tables + rules)."""

from __future__ import annotations

import re

NOT_MODEL_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.decomposition",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
    "sklearn.manifold",
    "sklearn.cluster",
    "sklearn.compose",
    "sklearn.mixture",
    "sklearn.random_projection",
    "sklearn.kernel_approximation",
    "scipy",
    "imblearn.over_sampling",
    "imblearn.under_sampling",
    "umap",
    "category_encoders",
    "gensim",
    "nltk",
    "keras.preprocessing",
    "tensorflow.keras.preprocessing",
    "tensorflow.keras.layers",
    "keras.layers",
)
NOT_MODEL_CLASS = re.compile(
    r"(Scaler|Encoder|Imputer|Vectori[sz]er|Transformer|Binarizer|Selector|Tokeni[sz]er|Normalizer|"
    r"Discretizer|PCA|SVD|TSNE|KMeans|DBSCAN|Clustering|NMF|LatentDirichletAllocation|Isomap|"
    r"PolynomialFeatures|SelectKBest|SelectFromModel|VarianceThreshold|RFE|RFECV|SMOTE|GaussianMixture|"
    r"NearestNeighbors|UMAP|Word2Vec|Doc2Vec|Imputer|LabelEncoder|Pipeline_?Preprocess)$"
)
NOT_MODEL_VAR = re.compile(
    r"^(.*scaler.*|.*encoder.*|.*imputer.*|.*vectori[sz]er.*|.*pca.*|.*tfidf.*|.*tokeni[sz]er.*|"
    r"le|ohe|sc|enc|norm|.*transformer|.*selector|kmeans?|km|tsne|cv|count_vect|.*_enc|poly|smote|sm)$",
    re.I,
)
WRAPPERS = {
    "GridSearchCV",
    "RandomizedSearchCV",
    "HalvingGridSearchCV",
    "HalvingRandomSearchCV",
    "BayesSearchCV",
    "CalibratedClassifierCV",
    "OneVsRestClassifier",
    "OneVsOneClassifier",
    "MultiOutputRegressor",
    "MultiOutputClassifier",
    "TransformedTargetRegressor",
}
TIME_SERIES = re.compile(
    r"^(ARIMA|SARIMAX|ExponentialSmoothing|SimpleExpSmoothing|Holt|VAR|AutoReg|Prophet)$"
)
_FORMULA_FUNCS = {"ols", "logit", "probit", "glm", "wls", "gls", "mnlogit", "poisson", "quantreg"}


def task_of(class_name: str) -> str:
    """classification | regression | unknown, from an estimator class name."""
    if re.search(
        r"Classifier|Classification|LogisticRegression|^(Linear|Nu)?SVC$|NB$|^(MN)?[Ll]ogit$|"
        r"^[Pp]robit$|Perceptron|^mnlogit$",
        class_name,
    ):
        return "classification"
    if re.search(
        r"Regressor|Regression|^(Linear|Nu)?SVR$|^Ridge(CV)?$|^Lasso|ElasticNet|BayesianRidge|"
        r"^(OLS|WLS|GLS|ols|wls|gls|quantreg|QuantReg)$|Lars|TheilSen|RANSAC|Huber",
        class_name,
    ):
        return "regression"
    return "unknown"


def framework_of(qualified: str, class_name: str) -> str:
    top = qualified.split(".")[0]
    if top in ("sklearn", "imblearn", "mlxtend"):
        return "sklearn"
    if top in ("xgboost", "lightgbm", "catboost", "statsmodels", "torch", "prophet"):
        return top
    if top in ("keras", "tensorflow", "tf"):
        return "keras"
    if top in ("pytorch_lightning", "lightning", "torchvision"):
        return "torch"
    for prefix, name in (("XGB", "xgboost"), ("LGBM", "lightgbm"), ("CatBoost", "catboost")):
        if class_name.startswith(prefix):
            return name
    return "unknown"


def loss_task(loss: str) -> str:
    if re.search(r"crossentropy|hinge|kl_?div", loss, re.I):
        return "classification"
    if re.search(r"mse|mae|mean_squared|mean_absolute|huber|log_?cosh|mape", loss, re.I):
        return "regression"
    return "unknown"


def formula_target(formula: str) -> str:
    left = formula.split("~", 1)[0].strip()
    quoted = re.match(r"""^Q\(\s*["'](.+)["']\s*\)$""", left)
    if quoted:
        return quoted.group(1)
    wrapped = re.match(r"^[\w.]+\((\w+)\)$", left)
    return wrapped.group(1) if wrapped else left
