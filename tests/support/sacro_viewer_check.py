"""Open a release folder with SACRO Viewer's own code (run with the viewer's Python).

Usage: python sacro_viewer_check.py SACRO_VIEWER_SOURCE RELEASE_FOLDER

Runs, on the folder, what the viewer runs when an output checker opens it: the ``load``
view (``find_acro_metadata``), ``load_from_path`` (structure and version check),
``annotate`` (checksums, cells), the checker's ``index`` page, ``contents`` for every
file, and ``adapters.zipfile.create`` for approving every output. Exits non-zero with a
traceback on any failure. Needs a Python with the viewer's requirements
(requirements.prod.txt); see tests/release/sdc/test_sdc_sacro.py.
"""

import os
import sys
import zipfile
from pathlib import Path

source, folder = Path(sys.argv[1]), Path(sys.argv[2])
os.environ.setdefault("SECRET_KEY", "check-only")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sacro.settings")
os.environ.setdefault("DJANGO_VITE_DEV_MODE", "true")  # no built JavaScript needed
sys.path.insert(0, str(source))

import django  # noqa: E402

django.setup()
from django.test import RequestFactory  # noqa: E402
from sacro import models, views  # noqa: E402
from sacro.adapters import zipfile as sacro_zip  # noqa: E402

rf = RequestFactory()
response = views.load(rf.get("/load", {"dirpath": str(folder), "role": "checker"}))
assert response.status_code == 302, response.status_code
path = models.find_acro_metadata(folder)
assert path == folder / "outputs.json", path
outputs = models.load_from_path(path)
invalid = [f["name"] for m in outputs.values() for f in m["files"] if not f["checksum_valid"]]
assert not invalid, f"SACRO Viewer would say these were modified: {invalid[:5]}"
page = views.index(rf.get("/checker/", {"path": str(path)}))
page.render()
assert page.status_code == 200
for output, metadata in outputs.items():
    for f in metadata["files"]:
        got = views.contents(
            rf.get("/contents/", {"path": str(path), "output": output, "filename": f["name"]})
        )
        assert got.status_code == 200, (output, f["name"])
review = {
    "comment": "check",
    "path": path,
    "decisions": {o: {"state": True, "comment": ""} for o in outputs},
}
names = zipfile.ZipFile(sacro_zip.create(outputs, review, list(outputs))).namelist()
assert "missing-files.txt" not in names, names
print(f"SACRO Viewer opened {path}: {len(outputs)} outputs, version {outputs.version}")
