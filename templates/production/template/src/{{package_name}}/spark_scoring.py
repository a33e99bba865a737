"""`predict --engine spark INPUT [OUTPUT]`: batch scoring on Spark, row for row what the pandas engine gives.

- INPUT: a CSV or Parquet file or folder (local, `hdfs://`, `s3a://`, ...) read with the project's
  READ_OPTIONS where Spark has the same option (`sep`, `header`, `names`, `encoding`, `quotechar`,
  `escapechar`, `comment`, `na_values`, `usecols`, ...; anything else is refused, naming it), or a
  table name (`db.table`): `spark.table(INPUT)`. Dates and times are read as their text, as pandas
  reads them, and pandas' missing-value strings ("NA", "null", ...) are nulls, as in pandas.
- Rows: each partition is checked with the project's own code (scoring.Checker.annotate, in
  mapInPandas): the service's schema and contract checks. The valid rows are scored with
  `mlflow.pyfunc.spark_udf` (env_manager="local") on the champion's registry version, wrapped in a
  pyfunc that casts them to the training dtypes (scoring.Checker.frame) before the model sees them.
- OUTPUT (default `<input>.predictions.csv|.parquet`): a folder of part files (CSV with a header for a
  `.csv` name, else Parquet) or a table name; the rejects go next to it (`<output>.rejects.<ext>`, or
  the table `<output>_rejects`), overwritten on each run.
- Session: master from `<PKG>_SPARK_MASTER`, else spark-submit's own configuration, else local[*].
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any

from . import scoring
from . import settings as S
from .errors import ProjectError

# pandas' read_csv option -> Spark's CSV option, for the options Spark reads the same way
_CSV = {"sep": "sep", "delimiter": "sep", "encoding": "encoding", "quotechar": "quote", "escapechar": "escape",
        "comment": "comment", "lineterminator": "lineSep"}
# options whose default (or this value) changes nothing Spark has to do
_SAME = {"engine": None, "skip_blank_lines": True, "na_filter": True, "quoting": 0, "encoding_errors": "strict",
         "decimal": ".", "skipinitialspace": None, "keep_default_na": None, "na_values": None, "header": None,
         "names": None, "usecols": None, "format": None}
_TABLE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){0,2}")
_DATA_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".dat", ".psv", ".parquet", ".pq", ".json", ".jsonl", ".xlsx",
                  ".xls", ".gz", ".bz2", ".zip")
# what pandas reads as missing by default (pandas._libs.parsers.STR_NA_VALUES)
_PANDAS_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def is_table(text: str) -> bool:
    """A table name (`name`, `db.name`, `catalog.db.name`) rather than a path."""
    return bool(_TABLE.fullmatch(text)) and not Path(text).exists() and \
        Path(text).suffix.lower() not in _DATA_SUFFIXES


def session():
    """(SparkSession, master text): `<PKG>_SPARK_MASTER`, spark-submit's configuration, else local[*]."""
    from pyspark.sql import SparkSession

    master = S.env("SPARK_MASTER") or ""
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # launched by spark-submit: its --master and conf rule
    builder = SparkSession.builder.appName(f"{S.PACKAGE} predict").config("spark.ui.showConsoleProgress", "false")
    if master or not submitted:
        master = master or "local[*]"
        builder = builder.master(master)
        if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
            os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers: this interpreter, not python3 on PATH
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no Java, a master that does not answer
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ProjectError(f"cannot start Spark ({master or 'spark-submit'}): {first}",
                           f"Spark needs Java 17 or 21 (JAVA_HOME or java on PATH); {S.ENV_PREFIX}_SPARK_MASTER "
                           "names a cluster's master", exit_code=2) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark, spark.conf.get("spark.master", master or "?")


def _format(source: str) -> str:
    from .tables import format_of

    path = Path(source)
    if path.is_dir():
        names = [p.suffix.lower() for p in path.iterdir() if p.is_file() and not p.name.startswith(("_", "."))]
        return "parquet" if any(n in (".parquet", ".pq") for n in names) or not names else format_of("x" + names[0])
    if path.suffix.lower() in _DATA_SUFFIXES:
        return format_of(source)
    return str(S.READ_OPTIONS.get("format") or format_of(S.DATA_PATH))


def _options(source: str, fmt: str) -> dict[str, Any]:
    """The project's reader options for ``source`` (READ_OPTIONS for the training data's format)."""
    from .tables import format_of

    if fmt == S.READ_OPTIONS.get("format", format_of(S.DATA_PATH)):
        return dict(S.READ_OPTIONS)
    if Path(source).is_file():
        from .tables import sniff_options

        return dict(sniff_options(source)[0])
    return {"format": fmt}


def csv_options(options: dict[str, Any]) -> tuple[dict[str, str], list | None, list | None, list[str]]:
    """(Spark CSV options, names, usecols, missing-value strings) for pandas' options; refuses the rest."""
    refused = [k for k, v in options.items()
               if k not in _CSV and not (k in _SAME and (_SAME[k] is None or v == _SAME[k]))]
    header = options.get("header", "infer")
    names = options.get("names")
    usecols = options.get("usecols")
    if header not in ("infer", 0, None):
        refused.append("header")
    if usecols is not None and not (isinstance(usecols, list) and all(isinstance(c, str) for c in usecols)):
        refused.append("usecols")
    na_values = options.get("na_values")
    if isinstance(na_values, dict):
        refused.append("na_values")
    if refused:
        from .tables import describe

        raise ProjectError(f"--engine spark cannot read this file as the project does: Spark has no equivalent of "
                           f"{describe({k: options[k] for k in dict.fromkeys(refused)})} (READ_OPTIONS)",
                           "convert the file to Parquet, score it with --engine pandas, or edit READ_OPTIONS in "
                           "settings.py", exit_code=2)
    spark = {_CSV[k]: str(v) for k, v in options.items() if k in _CSV}
    spark["header"] = "false" if header is None or (names and header == "infer") else "true"
    if options.get("skipinitialspace"):
        spark["ignoreLeadingWhiteSpace"] = "true"
    # As pandas reads a CSV: a quoted field may hold line breaks, and "" inside quotes is one quote. (multiLine
    # reads each file in one task: for a big table, many files or Parquet keep Spark parallel.)
    spark.setdefault("multiLine", "true")
    spark.setdefault("escape", '"')
    na = list(_PANDAS_NA) if options.get("keep_default_na", True) else []
    na += [str(v) for v in ([na_values] if isinstance(na_values, str) else na_values or [])]
    return spark, list(names) if names else None, usecols, na


def plan(source: str) -> dict[str, Any]:
    """How ``source`` is read (checked before Spark starts): a table, or a file's format and Spark options."""
    if is_table(source):
        return {"table": source}
    fmt = _format(source)
    options = _options(source, fmt)
    location = str(Path(source).resolve()) if Path(source).exists() else source
    if fmt == "parquet":
        return {"parquet": location, "columns": options.get("columns")}
    if fmt != "csv":
        raise ProjectError(f"--engine spark reads CSV and Parquet files or tables, not {fmt}: {source}",
                           "convert it to Parquet, or score it with --engine pandas", exit_code=2)
    opts, names, usecols, na = csv_options(options)
    return {"csv": location, "options": opts, "names": names, "usecols": usecols, "na": na}


def read(spark, how: dict[str, Any]):
    """The input as a Spark DataFrame, read like the pandas engine reads it (``how``: `plan`)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if "table" in how:
        return spark.table(how["table"])
    if "parquet" in how:
        df = spark.read.parquet(how["parquet"])
        return df.select(*[df[c] for c in how["columns"]]) if how["columns"] else df
    opts, location = how["options"], how["csv"]
    inferred = spark.read.options(**opts, inferSchema="true").csv(location).schema
    # dates and times stay text, as pandas reads them without parse_dates (the model's schema parses them)
    fields = [T.StructField(f.name, T.StringType(), True) if isinstance(f.dataType, (T.DateType, T.TimestampType))
              or type(f.dataType).__name__ == "TimestampNTZType" else f for f in inferred.fields]
    df = spark.read.options(**opts).schema(T.StructType(fields)).csv(location)
    if how["names"]:
        df = df.toDF(*[str(n) for n in how["names"]])
    if how["usecols"]:
        df = df.select(*[df[c] for c in how["usecols"]])
    if how["na"]:
        na = how["na"]
        df = df.select(*[F.when(df[f.name].isin(na), F.lit(None)).otherwise(df[f.name]).alias(f.name)
                         if isinstance(f.dataType, T.StringType) else df[f.name] for f in df.schema.fields])
    return df


def _write(df, target: str) -> None:
    writer = df.write.mode("overwrite")
    if is_table(target):
        writer.saveAsTable(target)
    elif Path(target).suffix.lower() == ".csv":
        writer.option("header", "true").csv(target)
    else:
        writer.parquet(target)


def _annotate_batches(schema: dict, contract_yaml: str | None, options: dict, batches):
    """mapInPandas: each batch with the reject columns (the project's checks, rebuilt on the executor)."""
    checker = scoring.Checker.build(schema, contract_yaml, options)
    for pdf in batches:
        yield checker.annotate(pdf)


def _load_state(path: str, name: str, version: str, options: dict):
    from . import models

    bundle = models.load(Path(path), name, version)
    return bundle, scoring.Checker(bundle.schema, None, options)


def _score(state, pdf):
    import pandas as pd

    bundle, checker = state
    preds, proba = scoring.predict(bundle, checker.frame(pdf))
    out = {"prediction": preds}
    if proba is not None:
        out["probability"] = proba
    return pd.DataFrame(out)


def _scoring_model(name: str, version: str, options: dict):
    """A pyfunc around the registry's model: valid rows cast to the training dtypes, then predicted."""
    import mlflow.pyfunc
    import pandas as pd

    class ScoringModel(mlflow.pyfunc.PythonModel):
        def load_context(self, context) -> None:
            self.state = _load_state(context.artifacts["model"], name, version, options)

        def predict(self, context, model_input, params=None):  # noqa: ARG002
            return _score(self.state, model_input)

        # a DataFrame in, as the UDF gives it: MLflow neither validates nor asks for more precise hints
        predict.__annotations__ = {"model_input": pd.DataFrame, "return": pd.DataFrame}

    return ScoringModel()


def _result_type(bundle):
    """The UDF's struct: `prediction` typed as the model answers its example rows (+ `probability`)."""
    import pandas as pd
    from pyspark.sql import types as T

    kind = "f" if S.TASK == "regression" else "O"
    if bundle.example:
        checker = scoring.Checker(bundle.schema)
        preds, _ = scoring.predict(bundle, checker.frame(pd.DataFrame(bundle.example, columns=bundle.schema.names)))
        kind = preds.dtype.kind
    elif bundle.classes:
        kind = "b" if all(isinstance(c, bool) for c in bundle.classes) else \
            "i" if all(isinstance(c, int) for c in bundle.classes) else "O"
    prediction = {"b": T.BooleanType(), "i": T.LongType(), "u": T.LongType(), "f": T.DoubleType()}.get(kind,
                                                                                                       T.StringType())
    fields = [T.StructField("prediction", prediction, True)]
    if scoring.binary(bundle):
        fields.append(T.StructField("probability", T.DoubleType(), True))
    return T.StructType(fields)


def run(source: str, output: str | None = None, rejects: str | None = None):
    """Score ``source`` on Spark; a batch.Result. Raises ProjectError."""
    import logging
    import warnings

    mlflow_log = logging.getLogger("mlflow")
    level = mlflow_log.level
    mlflow_log.setLevel(logging.ERROR)  # its advice on env_manager="local" and pickled models: chosen here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return _run(source, output, rejects)
    except ProjectError:
        raise
    except Exception as exc:
        if S.env("DEBUG") or not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        raise ProjectError(f"the Spark job failed: {_cause(str(exc))}",
                           f"rerun with {S.ENV_PREFIX}_DEBUG=1 for the traceback", exit_code=70) from None
    finally:
        mlflow_log.setLevel(level)


def _cause(text: str) -> str:
    """The Python error a Spark task ended with (its last `SomeError: message` line), else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception): ", line)]
    return (errors[-1] if errors else (lines or [""])[0])[:300]


def _run(source: str, output: str | None, rejects: str | None):
    import shutil
    import tempfile

    from . import batch, registry

    settings = S.Settings.load()
    if output is None:
        if is_table(source):
            raise ProjectError(f"a table INPUT ({source}) needs an OUTPUT", "give OUTPUT: a table name or a path",
                               exit_code=2)
        output = str(batch.default_output(Path(source)))
    rejects = rejects or (f"{output}_rejects" if is_table(output) else batch.default_rejects(output))
    if len({source, output, rejects}) < 3:
        raise ProjectError(f"INPUT, OUTPUT and the rejects must differ ({source}, {output}, {rejects})",
                           "give another OUTPUT or --rejects", exit_code=2)
    how = plan(source)
    bundle = registry.load_bundle(settings)
    contract = scoring.load_contract(settings)
    spark, _ = session()
    tmp = tempfile.mkdtemp(prefix=f"{S.PACKAGE}-spark-")
    try:
        import mlflow
        from pyspark import StorageLevel
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        df = read(spark, how)
        missing = scoring.Checker(bundle.schema, contract).missing_columns(df.columns)
        if missing:
            raise ProjectError(f"the input does not fit the model's columns: input is missing column(s): "
                               f"{', '.join(missing)}", "score a file with the training data's columns")
        checked_schema = T.StructType(df.schema.fields + [T.StructField(n, T.StringType(), True)
                                                          for n in scoring.REJECT_COLUMNS])
        check = functools.partial(_annotate_batches, bundle.schema.to_dict(), scoring.contract_text(contract), {})
        checked = df.mapInPandas(check, checked_schema).persist(StorageLevel.MEMORY_AND_DISK)
        ok = checked["reject_rule"].isNull()
        counts = {bool(r["ok"]): int(r["count"]) for r in checked.groupBy(ok.alias("ok")).count().collect()}
        local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{bundle.name}/{bundle.version}",
                                                    dst_path=os.path.join(tmp, "registered"))
        wrapper = _scoring_model(bundle.name, bundle.version, {})
        mlflow.pyfunc.save_model(os.path.join(tmp, "scoring"), python_model=wrapper, artifacts={"model": local},
                                 pip_requirements=[])
        result_type = _result_type(bundle)
        udf = mlflow.pyfunc.spark_udf(spark, os.path.join(tmp, "scoring"), result_type=result_type,
                                      env_manager="local")
        valid = checked.filter(ok).drop(*scoring.REJECT_COLUMNS)
        keep = [valid[c] for c in df.columns if c not in result_type.fieldNames()]
        scored = valid.withColumn("__score", udf(F.struct(*[valid[n] for n in bundle.schema.names])))
        scored = scored.select(*keep, *[F.col("__score").getField(f).alias(f) for f in result_type.fieldNames()])
        _write(scored, output)
        _write(checked.filter(~ok), rejects)
        checked.unpersist()
    finally:
        spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return batch.Result(output, counts.get(True, 0), f"{bundle.name} v{bundle.version}", rejects, counts.get(False, 0))
