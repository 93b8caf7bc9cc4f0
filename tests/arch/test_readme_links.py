"""The README points only inside the repository: a clone has no folder beside it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_the_readme_names_is_in_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../" not in re.sub(r"ln -s \.\./\S+", "", text), "README 引用了仓库之外的路径"
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (ROOT / target).exists(), f"README 链接 {target} 在仓库里不存在"
    assert "docs/rules.md" in text
