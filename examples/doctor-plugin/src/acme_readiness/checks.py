"""Two company rules, as a platform team would add them: each check is a function with a docstring,
asking for the inputs it needs by parameter name (``ownership``, ``repo``, ``workflows``, ...)."""

from __future__ import annotations

from shipyard.checks import check, failed, partial, passed
from shipyard.checks.inputs import Repo, YamlDoc, is_placeholder


@check("acme-runbook", family="acme", title="The on-call runbook is linked")
def runbook(ownership: YamlDoc | None):
    """OWNERSHIP.yaml links the on-call runbook (on_call.runbook), as ACME's incident process requires."""
    if ownership is None:
        return failed("no OWNERSHIP.yaml", fix="shipyard adopt writes one; add on_call.runbook")
    value = ownership.get("on_call", "runbook")
    if is_placeholder(value):
        return failed("on_call.runbook is missing", ownership.evidence("on_call"),
                      fix="add on_call.runbook: the URL of the runbook in ACME's wiki")
    return passed(f"runbook: {value}", ownership.evidence("on_call", "runbook"))


@check("acme-cost-centre", family="acme", title="A cost centre pays for it")
def cost_centre(repo: Repo):
    """catalog-info.yaml carries ACME's cost-centre annotation (acme.com/cost-centre)."""
    if not repo.exists("catalog-info.yaml"):
        return failed("no catalog-info.yaml", fix="shipyard adopt --set catalog_info=true writes one")
    found = repo.find("catalog-info.yaml", r"acme\.com/cost-centre:\s*\S+")
    if found is None:
        return partial("catalog-info.yaml has no acme.com/cost-centre annotation", repo.find("catalog-info.yaml",
                                                                                             r"metadata:"),
                       fix="add metadata.annotations['acme.com/cost-centre']")
    return passed("cost centre set", found)
