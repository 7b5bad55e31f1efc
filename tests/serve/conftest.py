from __future__ import annotations

import pytest

from mlcore.serve.app import InferenceApp
from serve_helpers import AsgiClient, affine_model


@pytest.fixture
def client():
    app = InferenceApp([affine_model()])
    c = AsgiClient(app).start()
    yield c
    c.stop()
