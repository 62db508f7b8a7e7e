import pytest


@pytest.fixture
def collected_static(tmp_path):
    """A STATIC_ROOT as `collectstatic` leaves it, as far as the checks look: with a manifest."""
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    return tmp_path
