"""The dead-letter contract: reason headers added to a record set aside on `<topic>.dlq`.

The original key, value and headers are kept byte for byte; these headers say
why and where from. Written by every consumer, read by operators' tools.
"""

from __future__ import annotations

ERROR = "x-error"
ERROR_TYPE = "x-error-type"
SOURCE_TOPIC = "x-source-topic"
SOURCE_PARTITION = "x-source-partition"
SOURCE_OFFSET = "x-source-offset"
CONSUMER = "x-consumer"
REASON_HEADERS = (ERROR, ERROR_TYPE, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, CONSUMER)
