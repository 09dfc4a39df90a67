"""Async client of Meta's WhatsApp Cloud API (Graph API), one instance per access token.

```python
async with GraphClient(base_url=settings.graph_url, version=settings.graph_api_version,
                       access_token=token) as client:
    sent = await client.send(phone_number_id, TextMessage("Hello"), to="919812345678")
```

Local limits raise MessageValidationError (or MediaValidationError) before any HTTP; every other failure raises a
:class:`~softdukan.whatsapp.errors.GraphError` whose ``retryable`` tells the caller whether to try again.
Nothing is retried here.
"""

from softdukan.whatsapp.client.http import GraphTransportError, UnexpectedResponseError
from softdukan.whatsapp.client.media import MEDIA_TYPES, MediaAPI, MediaValidationError, media_kind
from softdukan.whatsapp.client.messages import MessagesAPI
from softdukan.whatsapp.client.phone_numbers import PhoneNumbersAPI
from softdukan.whatsapp.client.templates import TemplatesAPI
from softdukan.whatsapp.client.types import MediaInfo, SentMessage, TemplateCreated, TemplatePage
from softdukan.whatsapp.client.uploads import UPLOAD_TYPES, UploadsAPI, UploadSession, upload_kind


class GraphClient(MessagesAPI, MediaAPI, TemplatesAPI, UploadsAPI, PhoneNumbersAPI):
    """Messages (§3), media (§4), templates (§9) and their sample files (resumable upload), phone numbers and
    onboarding (§10)."""


__all__ = [
    "MEDIA_TYPES",
    "UPLOAD_TYPES",
    "GraphClient",
    "GraphTransportError",
    "MediaInfo",
    "MediaValidationError",
    "SentMessage",
    "TemplateCreated",
    "TemplatePage",
    "UnexpectedResponseError",
    "UploadSession",
    "media_kind",
    "upload_kind",
]
