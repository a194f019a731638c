"""The documents a clone carries: current, and linking only inside the repository."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def campaign_md():
    spec = importlib.util.spec_from_file_location("campaign_md", DOCS / "campaign_md.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_campaign_md_is_what_the_schema_and_its_notes_write():
    module = campaign_md()
    schema = json.loads(module.SCHEMA.read_text(encoding="utf-8"))
    assert (DOCS / "campaign.md").read_text(encoding="utf-8") == module.render(schema), \
        "run: python docs/campaign_md.py > docs/campaign.md"


def test_every_field_of_the_schema_is_explained():
    module = campaign_md()
    schema = json.loads(module.SCHEMA.read_text(encoding="utf-8"))
    rendered = module.render(schema)  # raises KeyError for a field without a note
    for name in schema["properties"]:
        assert f"| `{name}` |" in rendered
    for name in schema["$defs"]["action"]["properties"]:
        assert f"| `{name}` |" in rendered


def test_readme_and_docs_link_only_files_inside_the_repository():
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    expected = {"concepts.md", "dialects.md", "campaign.md", "settings.md", "deployment.md"}
    assert expected <= {p.name for p in DOCS.glob("*.md")}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "SPEC" not in text, page
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "#")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), (page.name, target)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in expected:
        assert f"(docs/{name})" in readme
