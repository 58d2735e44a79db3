import searchkit


def test_all_lists_the_public_names() -> None:
    import types

    public = {
        name
        for name in dir(searchkit)
        if not name.startswith("_") and not isinstance(getattr(searchkit, name), types.ModuleType)
    } - {"annotations", "TYPE_CHECKING", "Any"}
    assert sorted(searchkit.__all__) == searchkit.__all__
    assert set(searchkit.__all__) - {"__version__"} == public


def test_every_public_name_resolves() -> None:
    for name in searchkit.__all__:
        assert getattr(searchkit, name) is not None


def test_errors_share_a_base() -> None:
    for name in ("DocumentError", "IndexLockedError", "IndexNotFoundError", "IndexVersionError", "QueryError"):
        assert issubclass(getattr(searchkit, name), searchkit.SearchkitError)
