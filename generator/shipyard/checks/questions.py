"""The questions production asks, each with the checks that answer it (the "readiness questions" docs page)."""

from __future__ import annotations

QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Who owns this model, on the business side and the technical side?", ("gov-owners", "del-ownership-files")),
    ("Who owns it in 18 months, and who pays for its upkeep?", ("gov-month-18",)),
    ("Which business process does it change, and who owns that process?", ("gov-process",)),
    ("Where does the data come from, and who keeps it clean?", ("gov-data-owner", "data-1", "del-contract")),
    ("What happens when the model is wrong, and who is accountable?", ("gov-accountable", "gov-escalation")),
    ("Who is called, in what order, and how fast must they answer?", ("gov-escalation",)),
    ("How will we know it is degrading before users complain?",
     ("monitor-3", "monitor-7", "del-monitoring", "monitor-2")),
    ("What is the fallback, and was it ever exercised?", ("gov-fallback",)),
    ("Can we return to the previous model, and have we tried?", ("gov-rollback", "infra-7")),
    ("How is success measured at 30, 60 and 90 days, and who pulls that report?",
     ("gov-success-metrics", "gov-weekly-report", "model-2")),
    ("When was all this last reviewed?", ("gov-review-date",)),
    ("Is the model better than a simple rule, on every slice that matters, for everyone?",
     ("model-5", "model-6", "model-7")),
    ("Can we rebuild it from scratch and get the same model?", ("infra-1", "model-3")),
    ("Is a bad model stopped before it serves?", ("infra-4", "infra-6")),
    ("Does the data it serves on look like the data it learnt from?", ("monitor-2", "monitor-3", "data-1")),
    ("Will we hear about a dependency that moved?", ("monitor-1",)),
    ("Can it be built, shipped and kept current?",
     ("del-container", "del-ci", "del-registry", "del-template-fresh", "del-readiness-gate")),
)
