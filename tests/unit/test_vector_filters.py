"""The embedded S3 Vectors' metadata filters (infra/local/vector_filters.py), operator by operator, as the Amazon
S3 User Guide's "Metadata filtering" documents them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-metadata-filtering.html): $eq (also against an
array's values) and $ne on a string, number or boolean; $gt, $gte, $lt, $lte on a number; $in and $nin on a
non-empty array of those; $exists on a boolean; $and and $or on a non-empty array of filters; a bare value is
$eq; a non-filterable key refused. What the page leaves open is decided as MongoDB decides it (the module says
which)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local import vector_filters

MOVIE = {"genre": "documentary", "year": 2020, "tags": ["nature", "ocean"], "free": True, "text": "a long text"}


@pytest.mark.parametrize(
    ("filter_", "selected"),
    [
        ({"genre": "documentary"}, True),  # a bare value is $eq
        ({"genre": {"$eq": "drama"}}, False),
        ({"tags": {"$eq": "ocean"}}, True),  # against an array: any of its values
        ({"tags": "desert"}, False),
        ({"genre": {"$ne": "drama"}}, True),
        ({"tags": {"$ne": "ocean"}}, False),
        ({"missing": {"$ne": "x"}}, True),  # MongoDB's: a vector without the key
        ({"year": {"$gt": 2019}}, True),
        ({"year": {"$gt": 2020}}, False),
        ({"year": {"$gte": 2020, "$lte": 2020}}, True),  # several operators: all of them
        ({"year": {"$lt": 2020}}, False),
        ({"year": {"$lt": 2020.5}}, True),
        ({"genre": {"$gt": 1}}, False),  # a string is no number
        ({"genre": {"$in": ["comedy", "documentary"]}}, True),
        ({"tags": {"$in": ["desert", "ocean"]}}, True),
        ({"genre": {"$nin": ["comedy", "documentary"]}}, False),
        ({"missing": {"$nin": ["x"]}}, True),
        ({"genre": {"$exists": True}}, True),
        ({"missing": {"$exists": True}}, False),
        ({"missing": {"$exists": False}}, True),
        ({"free": True}, True),
        ({"free": 1}, False),  # a boolean equals only a boolean
        ({"year": 2020.0}, True),
        ({"year": "2020"}, False),
        ({"genre": "documentary", "year": 2019}, False),  # several keys: all of them
        ({"$and": [{"genre": "documentary"}, {"year": {"$gte": 2020}}]}, True),
        ({"$and": [{"genre": "documentary"}, {"year": {"$gte": 2021}}]}, False),
        ({"$or": [{"genre": "drama"}, {"year": {"$gte": 2020}}]}, True),
        ({"$or": [{"genre": "drama"}, {"$and": [{"free": False}]}]}, False),
        ({}, True),
    ],
)
def test_a_filter_selects_as_documented(filter_: dict[str, Any], selected: bool) -> None:
    vector_filters.check(filter_, {"text"})
    assert vector_filters.matches(filter_, MOVIE) is selected


@pytest.mark.parametrize(
    "filter_",
    [
        {"text": "a long text"},  # non-filterable: 400
        {"$and": [{"text": {"$exists": True}}]},
        {"genre": {"$regex": "doc"}},
        {"$not": {"genre": "drama"}},
        {"$and": []},
        {"$or": {"genre": "drama"}},
        {"genre": {"$in": []}},
        {"genre": {"$in": [["nested"]]}},
        {"year": {"$gt": "2019"}},
        {"year": {"$gt": True}},
        {"genre": {"$exists": "yes"}},
        {"genre": {}},
        {"genre": ["documentary"]},
        {"genre": None},
        ["genre"],
    ],
)
def test_a_filter_s3_vectors_refuses_is_refused(filter_: Any) -> None:
    with pytest.raises(vector_filters.InvalidFilter):
        vector_filters.check(filter_, {"text"})
