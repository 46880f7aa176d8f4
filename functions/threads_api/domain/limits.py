"""The domain's limits: OpenAI's where it documents one, ours (documented in README) where it does not."""

# OpenAI's
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX_CHARS = 64
METADATA_VALUE_MAX_CHARS = 512
MESSAGES_PER_CREATE = 32
MESSAGE_TEXT_MAX_CHARS = 256_000
CODE_INTERPRETER_MAX_FILES = 20
FILE_SEARCH_MAX_VECTOR_STORES = 1
LIST_DEFAULT_LIMIT = 20
LIST_MAX_LIMIT = 100

# Files. OpenAI's purposes that its file object also names (``evals`` is in its request schema only); its list
# limit (1 to 10,000, default 10,000).
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data")
FILES_LIST_MAX_LIMIT = 10_000

# Ours
CONTENT_MAX_PARTS = 100
IMAGE_URL_MAX_CHARS = 8_192
ATTACHMENTS_MAX = 20
ID_MAX_CHARS = 64  # any thread_/msg_/file ids longer than this cannot exist here
REQUEST_BODY_MAX_BYTES = 4 * 1024 * 1024
# A file's bytes: what one request through API Gateway and Lambda can carry. Lambda takes an event of at most
# 6,291,456 bytes, and API Gateway hands it a multipart body base64-encoded (4/3 of its size): 4 MiB of file is
# 5.6 MB encoded, with room left for the form's own parts and the event's headers and context.
FILE_MAX_BYTES = 4 * 1024 * 1024
# A file's bytes in one Lambda response (6 MB, base64-encoded: 4/3 of them): those of a file up to this size. A larger
# one (an upload's file) is answered with a redirect to a presigned S3 URL of its object, valid this many seconds.
FILE_CONTENT_INLINE_MAX_BYTES = FILE_MAX_BYTES
FILE_URL_EXPIRES_SECONDS = 300
FORM_OVERHEAD_MAX_BYTES = 64 * 1024  # a form's boundaries, headers, filename and purpose, beyond the file
FILENAME_MAX_CHARS = 512
# Uploads: a file larger than one request, sent in parts of at most FILE_MAX_BYTES each (what one request carries)
# and assembled by uploads.complete, which reads every part and writes the file to S3 within API Gateway's 29 s.
# At the rates of one Lambda to S3 (~60 to 90 MB/s each way, one request at a time), 256 MiB is read and written
# in about 6 to 9 s, plus about 25 ms a part: at most ~15 s with UPLOAD_MAX_PARTS small parts, half the 29 s.
# OpenAI takes 8 GB an upload (its files: 512 MB), in parts of 64 MB.
UPLOAD_MAX_BYTES = 256 * 1024 * 1024
UPLOAD_MAX_PARTS = 256  # added to one upload (listed or not): each is one S3 read at completion
UPLOAD_PART_MAX_BYTES = FILE_MAX_BYTES
MIME_TYPE_MAX_CHARS = 255
# OpenAI's: an upload expires an hour after its creation; then it takes no part and cannot be completed.
UPLOAD_EXPIRES_SECONDS = 3600
# Levels of objects and arrays in a body. A function tool's JSON Schema may nest deeply (its parameters
# start 5 levels down, and each nested property takes 2 more); deeper than this, nothing that walks a body
# recursively (hashing, copying, validating) may see it.
JSON_MAX_DEPTH = 64

# DynamoDB's, with headroom: an item is at most 400 KB, a transaction 100 items and 4 MB.
# A message item is also copied whole into the by_order local index, and its metadata may grow to
# about 37 KB of UTF-8: bodies over 150 KB go to compressed part items (which no index copies).
ITEM_BODY_INLINE_BYTES = 150_000
ITEM_PART_BYTES = 350_000
TRANSACTION_MAX_ITEMS = 100
TRANSACTION_MAX_BYTES = 4_000_000
BATCH_WRITE_MAX_ITEMS = 25
# Lambda's limit on a function's result (the proxy response, serialized by the runtime), in UTF-8 bytes.
LAMBDA_RESPONSE_MAX_BYTES = 6_291_456
# A list page holds objects up to this many bytes, measured as sent (``objects.sent_size``); the rest of the
# result (status, headers, the list's own fields and ids) takes a few hundred bytes of the margin.
LIST_PAGE_MAX_BYTES = LAMBDA_RESPONSE_MAX_BYTES - 16_384
# Before that exact fit, a page of messages stops reading (has_more) past this much stored body, so that a
# page of large messages does not fetch the parts of ones that cannot be sent anyway.
LIST_PAGE_MAX_BODY_BYTES = 1_000_000

# Runs. Ours: a run and its steps (tool calls and their outputs) are one item, listed by the by_order local index,
# which copies every attribute: the item and that copy share DynamoDB's 400 KB (409,600 bytes), so the item takes
# at most half, with headroom. What a run is given at its creation (instructions, tools) is stored
# zlib-compressed past RUN_PACK_ABOVE_BYTES, and the item is measured as written.
RUN_ITEM_MAX_BYTES = 200_000
RUN_PACK_ABOVE_BYTES = 1_024
TOOL_OUTPUT_MAX_CHARS = 256_000
# The most a run's metadata takes as stored (compact JSON): 16 pairs, each character of a key or value at most 6
# bytes (a control character, escaped as \u0001). A modify writes it without reading the run, so every run keeps
# room for it.
METADATA_MAX_STORED_BYTES = 2 + METADATA_MAX_PAIRS * (6 * (METADATA_KEY_MAX_CHARS + METADATA_VALUE_MAX_CHARS) + 6)
# What the worker adds to a run and keeps bounded: the id of its invocation (a longer one is stored hashed), and
# the message of a run's last_error (a longer one is cut).
WORKER_ID_MAX_CHARS = 64
LAST_ERROR_MESSAGE_MAX_CHARS = 1_000
# A tool call's id as the API hands it out (and takes it back in submit_tool_outputs): a model's own id when it
# is no longer, otherwise one derived from it.
TOOL_CALL_ID_MAX_CHARS = 256
