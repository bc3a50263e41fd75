"""The shape of the package: the core never needs the web layer, and no module takes part in an import circle."""

import ast
import subprocess
import sys
from pathlib import Path

import mnist_app

PACKAGE = Path(mnist_app.__file__).parent
CORE = ("reading", "training", "storage")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The mnist_app modules a file imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mnist_app"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                          else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mnist_app"))
    return found


def test_the_core_imports_no_gradio_and_nothing_of_the_web_layer():
    code = (
        "import sys\n"
        + "".join(f"import mnist_app.{package}.{path.stem}\n" for package in CORE
                  for path in sorted((PACKAGE / package).glob("*.py")))
        + "print(sorted(m for m in sys.modules if m == 'gradio' or m.startswith('mnist_app.web')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_starting_the_app_and_loading_a_model_import_no_torchvision():
    """torchvision's import (it brings torch's compiler) took 1.5-2.6 s of every start of the app, its training
    worker and the command line; only downloading MNIST needs it."""
    code = (
        "import sys\n"
        "import mnist_app.web.server, mnist_app.web.jobs, mnist_app.training.train, mnist_app.training.evaluate\n"
        "from mnist_app.reading.predict import Predictor\n"
        "from mnist_app.training.models import MODELS\n"
        "Predictor()\n"
        "models = [build() for build in MODELS.values()]\n"
        "print('torchvision' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_no_module_takes_part_in_an_import_circle():
    graph = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/")).is_dir()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, goal, seen):
                    return True
        return False

    circles = [name for name in graph if name not in packages and reaches(name, name, set())]
    assert circles == []


def test_no_import_is_deferred_into_a_function_nor_guarded_by_type_checking():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert "TYPE_CHECKING" not in path.read_text(), path
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
            inner = [n for n in ast.walk(function) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith(
                "mnist_app")]
            assert inner == [], f"{path}: {function.name} imports {inner[0].module} inside"
