"""Generate data/customers.csv: a synthetic telecom churn table (deterministic, ~120 KB).

Run `python make_data.py` to rebuild it. Only the standard library is needed.
"""

import csv
import math
import random
from pathlib import Path

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["electronic check", "mailed check", "bank transfer", "credit card"]


def main(rows: int = 2000, seed: int = 7) -> None:
    rng = random.Random(seed)
    out = Path(__file__).parent / "data" / "customers.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "tenure_months", "monthly_charges", "total_charges",
                         "contract_type", "payment_method", "support_calls", "has_partner", "churned"])
        for i in range(rows):
            contract = rng.choices(CONTRACTS, weights=[55, 25, 20])[0]
            tenure = rng.randint(0, 72) if contract != "month-to-month" else rng.randint(0, 40)
            monthly = round(rng.uniform(19.0, 119.0), 2)
            total = "" if tenure == 0 and rng.random() < 0.7 else round(monthly * tenure * rng.uniform(0.9, 1.1), 2)
            payment = rng.choice(PAYMENTS)
            calls = min(10, int(rng.expovariate(0.6)))
            partner = rng.choice(["Yes", "No"])
            # Non-linear on purpose: the notebook's boosted trees should beat a linear baseline.
            score = (-1.0 + 1.2 * (contract == "month-to-month") - 1.6 * (tenure > 18) + 1.2 * (tenure < 4)
                     + 0.012 * monthly + 3.0 * (calls >= 3) * (contract == "month-to-month")
                     - 1.5 * (calls >= 3) * (contract != "month-to-month") + 1.0 * (monthly > 90) * (tenure < 12)
                     + 0.5 * (payment == "electronic check") - 0.3 * (partner == "Yes"))
            churned = int(rng.random() < 1 / (1 + math.exp(-score)))
            writer.writerow([f"C{i:05d}", tenure, monthly, total, contract, payment, calls, partner, churned])


if __name__ == "__main__":
    main()
