from tests.conversation.live import live  # noqa: F401  (fixture shared by the live send tests)
from tests.support.whatsapp_fixtures import T0, clock, published, wa  # noqa: F401  (fixtures)
