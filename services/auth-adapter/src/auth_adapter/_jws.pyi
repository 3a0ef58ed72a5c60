from collections.abc import Callable
from typing import Any

class Verifier:
    def __init__(
        self,
        key: bytes,
        good_headers: set[bytes],
        scan: Callable[[str, int], tuple[Any, int]],
        identity: type[tuple[Any, ...]],
        no_names: frozenset[str],
        leeway: int,
        issuer: str | None,
        audience: str | None,
    ) -> None: ...
    def verify(self, token: str, now: float) -> Any: ...
