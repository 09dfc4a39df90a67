from tests.support.whatsapp_fixtures import T0, clock, published, wa  # noqa: F401  (fixtures)
