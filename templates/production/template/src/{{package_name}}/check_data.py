"""`check-data [FILE]`: a data file against the contract, read the way the project reads its data.

`run` returns a report (the command line prints it); `snapshot` writes the training table as
Parquet for datacontract-cli when it cannot read the file itself the way the project does
(`make contract-test`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S
from .contract import Contract, ContractError
from .errors import ProjectError
from .rules import Violation


@dataclass
class Report:
    file: str
    contract: str
    rows: int
    columns: int
    contract_columns: int
    draft: bool
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "contract": self.contract, "ok": self.ok, "rows": self.rows,
                "columns": self.columns, "violations": [v.as_dict() for v in self.violations]}


def load_contract(path: str | Path | None = None) -> Contract:
    """The project's contract (or the one at ``path``); ProjectError with exit code 2 when unreadable."""
    cpath = Path(path) if path is not None else S.Settings.load().contract_path
    try:
        return Contract.load(cpath)
    except ContractError as exc:
        raise ProjectError(str(exc), "fix the contract file, or re-run `shipyard adopt`", exit_code=2) from None


def run(path: str | Path | None = None, contract_path: str | Path | None = None) -> Report:
    """Check ``path`` (default: the training data) against the contract."""
    from . import datasets

    contract = load_contract(contract_path)
    target = Path(path) if path is not None else S.Settings.load().data_path
    try:
        df = datasets.read(path)
    except ProjectError as exc:
        raise ProjectError(exc.message, exc.hint, exit_code=2) from None
    return Report(
        file=str(target),
        contract=str(contract.path),
        rows=int(len(df)),
        columns=int(df.shape[1]),
        contract_columns=len(contract.columns),
        draft=contract.status == "draft",
        violations=contract.check_dataset(df),
    )


def snapshot(dest: str | Path) -> Path:
    """Write the training table, as the project reads it, to ``dest`` as Parquet (index kept as columns)."""
    from . import datasets

    out = Path(dest)
    out.parent.mkdir(parents=True, exist_ok=True)
    df = datasets.read()
    df.reset_index(drop=df.index.name is None).to_parquet(out, index=False)
    return out
