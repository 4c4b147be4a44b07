# A package, so that pytest imports this folder's conftest.py as python.conftest: tests/e2e's test modules
# do `from conftest import ...` and must keep finding their own conftest when both folders run together.
