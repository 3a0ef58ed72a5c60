"""The C extension (setuptools reads everything else from pyproject.toml).

auth_adapter._jws verifies the usual JWT in C (tokens.py says what it accepts). It is optional: without a
C compiler the package installs and verifies every token in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("auth_adapter._jws", ["src/auth_adapter/_jws.c"], optional=True, extra_compile_args=["-O2"])
    ]
)
