import searchkit


def test_all_lists_the_public_names() -> None:
    public = {name for name in dir(searchkit) if not name.startswith("_")} - {
        "analysis", "annotations", "cli", "documents", "errors", "highlight", "importlib",
        "index", "postings", "query", "ranking", "records", "results", "search", "shard", "store", "sync",
        "workers", "TYPE_CHECKING", "Any",
    }
    assert sorted(searchkit.__all__) == searchkit.__all__
    assert set(searchkit.__all__) - {"__version__"} == public


def test_every_public_name_resolves() -> None:
    for name in searchkit.__all__:
        assert getattr(searchkit, name) is not None


def test_errors_share_a_base() -> None:
    for name in ("DocumentError", "IndexLockedError", "IndexNotFoundError", "IndexVersionError", "QueryError"):
        assert issubclass(getattr(searchkit, name), searchkit.SearchkitError)
