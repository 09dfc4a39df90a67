"""The broadcast tests run on the in-process shop of tests/template (fixtures re-exported here)."""

from tests.support.whatsapp_fixtures import clock, published  # noqa: F401
from tests.template.conftest import shop  # noqa: F401
