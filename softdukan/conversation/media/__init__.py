"""Media of messages: the bytes of images, videos, audio, stickers and documents, fetched from Meta (inbound, the
Business app's echoes and history, outbound sent by media id) and served tenant-scoped to the dashboard and /v1."""
