"""Paths the tests need, from the environment ctest sets
(bindings/python/CMakeLists.txt); a test whose input is missing is skipped."""
import os
import pathlib

import pytest


@pytest.fixture(scope="session")
def src():
    """The source tree."""
    env = os.environ.get("IMS_SRC")
    return pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli():
    """The `iommusim` command of the same build."""
    path = os.environ.get("IMS_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("IMS_CLI (the iommusim command) is not set")
    return path


@pytest.fixture(scope="session")
def plugin_ok():
    """tests/walkers/test_plugin.c case 4: a harvest-level plug-in that
    reports every page of a harvest's range dirty."""
    path = os.environ.get("IMS_TEST_PLUGIN_OK")
    if not path or not os.path.exists(path):
        pytest.skip("IMS_TEST_PLUGIN_OK (the test walker plug-in) is not set")
    return path
