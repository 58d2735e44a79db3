"""Make docs/serve-light.png and docs/serve-dark.png: the search page with results, in
headless Chromium, on a sample of the vault (or the test fixtures without it).

    PYTHONPATH=. python docs/screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import FIXTURE_VAULT, SHARED_VAULT  # noqa: E402
from tests.serving import serve  # noqa: E402
from tests.test_serve_browser import start_browser  # noqa: E402

SAMPLE = 400
QUERY = "开源 大模型"


def sample(target: Path) -> Path:
    if not SHARED_VAULT.is_dir():
        shutil.copytree(FIXTURE_VAULT, target)
        return target
    for file in sorted(SHARED_VAULT.rglob("*.md"))[::8][:SAMPLE]:
        destination = target / file.relative_to(SHARED_VAULT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    return target


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        vault = sample(Path(folder) / "vault")
        running, url = serve(vault, Path(folder) / "index", "--no-watch")
        try:
            for dark, name in ((False, "serve-light.png"), (True, "serve-dark.png")):
                driver = start_browser(dark=dark)
                try:
                    driver.get(f"{url}/")
                    driver.find_element("id", "q").send_keys(QUERY)
                    time.sleep(2)
                    driver.save_screenshot(str(REPO / "docs" / name))
                finally:
                    driver.quit()
        finally:
            running.stop()


if __name__ == "__main__":
    main()
