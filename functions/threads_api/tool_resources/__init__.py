"""The vector-store side of writing an assistant's, a thread's or a message's resources (issue 20): the
``vector_store_ids`` given checked, the ``vector_stores`` helper made into a store, and the files of the
attachments that ``file_search`` searches put into their thread's store, all at the request that writes them.

- ``stores``: the ids checked, the helper's store made (a thread's expires after 7 days idle), stores taken back.
- ``attachments``: the attached files added to the thread's store, made when it has none (one wins a race).
- ``writes``: what the handlers call; a request without resources or searched attachments goes as before.
"""
