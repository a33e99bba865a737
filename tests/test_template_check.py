"""`shipyard template check`: passes on the built-in template, fails with a precise message on broken ones."""

from __future__ import annotations

import json
import re

import pytest
from conftest import EXAMPLE, git, shipyard
from template_fixtures import tagged_template, write


def steps(done) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(done.stdout)["steps"]}


@pytest.mark.e2e
def test_the_built_in_template_passes_with_the_bundled_example():
    done = shipyard("template", "check", "production", "--example", EXAMPLE, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["source"] == "production"
    by_name = steps(done)
    assert by_name["render"]["status"] == "pass"
    assert by_name["tests"]["status"] == "pass" and " passed" in by_name["tests"]["detail"]
    assert "skipped" not in by_name["tests"]["detail"]  # the example's data is there: nothing skips
    linters = {name.split()[1] for name in by_name if name.startswith("lint:")}
    assert linters == {"hadolint", "actionlint", "zizmor", "check-jsonschema"}
    assert all(s["status"] == "pass" for n, s in by_name.items() if n.startswith("lint:"))


def test_an_update_is_rehearsed_from_the_previous_tag_with_a_user_edit(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    done = shipyard("template", "check", template, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    rehearsal = steps(done)["update rehearsal"]
    assert rehearsal["status"] == "pass" and rehearsal["detail"].startswith("v1 -> v2: ")
    assert steps(done)["tests"]["status"] == "skip"  # this template generates no tests


def test_a_dockerfile_the_linter_rejects_fails_the_check_naming_the_rule(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    write(template, {"template/Dockerfile": "FROM python\nRUN pip install flask\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "a Dockerfile")
    done = shipyard("template", "check", template)
    assert done.returncode == 1
    assert "fail  lint: hadolint Dockerfile" in done.stdout and "DL3006" in done.stdout
    assert "1 step(s) failed: lint: hadolint Dockerfile" in done.stdout


def test_a_template_whose_projects_fall_below_their_own_readiness_floor_fails_at_readiness(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    passing = steps(shipyard("template", "check", template, "--json"))["readiness"]
    assert passing["status"] == "pass" and passing["detail"].startswith("ML Test Score 0 ")
    write(template, {"template/pyproject.toml": "[tool.shipyard.doctor]\nfail-under = 1\nfail-under-delivery = 50\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "a readiness floor the template does not reach")
    done = shipyard("template", "check", template, "--json")
    assert done.returncode == 1
    gate = steps(done)["readiness"]
    assert gate["status"] == "fail"
    assert re.match(r"ML Test Score 0 is below the floor 1; delivery [0-9.]+% is below the floor 50% \(", gate["detail"])


def test_a_template_that_does_not_render_fails_at_render_with_the_reason(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    write(template, {"template/broken.txt.jinja": "{{ name | no_such_filter }}\n"})
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "broken")
    done = shipyard("template", "check", template, "--json")
    assert done.returncode == 1
    render = steps(done)["render"]
    assert render["status"] == "fail" and "no_such_filter" in render["detail"]


def test_a_release_that_removes_the_file_the_user_edited_keeps_it_in_the_rehearsal(tmp_path):
    template = tagged_template(tmp_path / "tpl")
    # v3 turns README.md into a file the template removes: the user's edit to it must not be lost silently
    (template / "template" / "README.md.jinja").unlink()
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "v3 drops the README")
    git(template, "tag", "v3")
    done = shipyard("template", "check", template, "--json")
    rehearsal = steps(done)["update rehearsal"]
    assert rehearsal["status"] == "pass" and rehearsal["detail"].startswith("v2 -> v3: ")
    assert "1 kept" in rehearsal["detail"]  # the README the user edited stays: nothing is lost
