"""The chat and content apps depend on subscriptions, never the other way round."""

import ast
from pathlib import Path

import subscriptions


def test_subscriptions_never_imports_chat_or_content():
    package = Path(subscriptions.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if "tests" in path.parts:
            continue  # tests may look at both sides of the signal
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("chat", "content")
            ]
    assert offenders == []
