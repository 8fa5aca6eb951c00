"""The registry: where deployed IR waits for the deciders, by name and version.

A registry is a folder or an S3 prefix holding, for each deployed workflow
type,

    workflows/<name>/<version>/ir.json           the IR, as `cpec compile` writes it
    workflows/<name>/<version>/deployment.json   deployment settings

`deployment.json` holds what a deployment chose that the plan does not say
(the decision task list of `cpec deploy --task-list`), so that the IR stays
exactly what `cpec compile` gives. Names are percent-encoded in paths.

A version, once deployed, is expected never to change: storing another IR
under the same name and version is refused unless forced, since executions
that are running would otherwise be decided by a plan they did not start with.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote, unquote

from cpe.runtime.backends.select import aws_session, s3_address
from cpe.runtime.ir import IRError, check_ir

logger = logging.getLogger(__name__)

_WORKFLOWS = "workflows"
_IR_FILE = "ir.json"
_DEPLOYMENT_FILE = "deployment.json"


class RegistryError(Exception):
    """The registry cannot be used as asked; the message says why."""


class RegistryConflict(RegistryError):
    """Another IR is deployed under the same workflow name and version."""


@dataclass(frozen=True)
class Deployment:
    """One deployed workflow type: its IR and the settings it was deployed with."""

    ir: dict[str, Any]
    decision_task_list: str

    @property
    def name(self) -> str:
        return str(self.ir["workflow"]["name"])

    @property
    def version(self) -> str:
        return str(self.ir["workflow"]["version"])

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)

    @property
    def content_hash(self) -> str:
        return str(self.ir["content_hash"])


StoreOutcome = Literal["stored", "unchanged", "replaced"]


class _Storage(Protocol):
    """Bytes by key: a folder or an S3 prefix."""

    def describe(self) -> str: ...
    def read(self, key: str) -> bytes | None: ...
    def write(self, key: str, data: bytes) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...


class _FolderStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def describe(self) -> str:
        return str(self._root)

    def read(self, key: str) -> bytes | None:
        try:
            return (self._root / key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise RegistryError(
                f"cannot read {self._root / key}: {error.strerror}"
            ) from None

    def write(self, key: str, data: bytes) -> None:
        # Written beside the target and renamed over it: a reader sees the old
        # file or the new one, never half of one.
        target = self._root / key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise RegistryError(f"cannot write {target}: {error.strerror}") from None

    def keys(self, prefix: str) -> list[str]:
        base = self._root / prefix
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self._root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )


class _S3Storage:
    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._client = client

    def describe(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}".rstrip("/")

    def _s3(self) -> Any:
        if self._client is None:
            self._client = aws_session().client("s3")
        return self._client

    def _key(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def read(self, key: str) -> bytes | None:
        try:
            answer = self._s3().get_object(Bucket=self._bucket, Key=self._key(key))
        except Exception as error:
            if _s3_code(error) in ("NoSuchKey", "404"):
                return None
            raise RegistryError(
                f"cannot read {self.describe()}/{key}: {error}"
            ) from None
        data: bytes = answer["Body"].read()
        return data

    def write(self, key: str, data: bytes) -> None:
        # One PutObject is atomic: readers see the old object or the new one.
        try:
            self._s3().put_object(
                Bucket=self._bucket,
                Key=self._key(key),
                Body=data,
                ContentType="application/json",
            )
        except Exception as error:
            raise RegistryError(
                f"cannot write {self.describe()}/{key}: {error}"
            ) from None

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._key(prefix)}
        skip = len(self._prefix) + 1 if self._prefix else 0
        try:
            while True:
                page = self._s3().list_objects_v2(**request)
                found.extend(item["Key"][skip:] for item in page.get("Contents", []))
                if not page.get("IsTruncated"):
                    return sorted(found)
                request["ContinuationToken"] = page["NextContinuationToken"]
        except Exception as error:
            raise RegistryError(f"cannot list {self.describe()}: {error}") from None


def _s3_code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def _folder_of(name: str, version: str) -> str:
    return f"{_WORKFLOWS}/{quote(name, safe='')}/{quote(version, safe='')}"


class Registry:
    """Deployed IR in a folder or under an S3 prefix."""

    def __init__(self, storage: _Storage) -> None:
        self._storage = storage
        self.damaged_task_lists: set[str] = set()

    def describe(self) -> str:
        return self._storage.describe()

    def get(self, name: str, version: str) -> Deployment | None:
        """The deployment of one workflow type, or None if it is not deployed."""
        folder = _folder_of(name, version)
        data = self._storage.read(f"{folder}/{_IR_FILE}")
        if data is None:
            return None
        return self._deployment(folder, data)

    def store(
        self, ir: dict[str, Any], *, task_list: str | None = None, force: bool = False
    ) -> StoreOutcome:
        """Deploy `ir`; RegistryConflict if another IR has its name and version."""
        workflow = ir["workflow"]
        folder = _folder_of(workflow["name"], workflow["version"])
        existing = self.get(workflow["name"], workflow["version"])
        outcome: StoreOutcome = "stored"
        if existing is not None:
            if existing.content_hash != ir["content_hash"]:
                if not force:
                    raise RegistryConflict(
                        f"workflow {workflow['name']} version {workflow['version']} "
                        f"is deployed in {self.describe()} with content hash "
                        f"{existing.content_hash}; this IR has {ir['content_hash']}. "
                        "Executions already running would be decided by another "
                        "plan: give the plan a new version, or pass --force to "
                        "replace it anyway"
                    )
                outcome = "replaced"
            elif existing.decision_task_list == (task_list or workflow["task_list"]):
                return "unchanged"
        settings = {"decision_task_list": task_list or workflow["task_list"]}
        # Settings first: a decider that finds the new IR finds its settings.
        self._storage.write(f"{folder}/{_DEPLOYMENT_FILE}", _json_bytes(settings))
        self._storage.write(f"{folder}/{_IR_FILE}", _json_bytes(ir))
        return outcome

    def load_all(self) -> dict[tuple[str, str], Deployment]:
        """Every deployment that can be read; unreadable ones are logged and skipped.

        A daemon keeps serving the types it can while one entry is damaged.
        The decision task lists of damaged entries (their IR unreadable or
        gone, their deployment.json still there) are kept in
        `damaged_task_lists`, so that a decider still answers the executions
        of such a type, failing them, rather than leaving them open forever.
        """
        found: dict[tuple[str, str], Deployment] = {}
        settings_folders: set[str] = set()
        for key in self._storage.keys(f"{_WORKFLOWS}/"):
            if key.endswith(f"/{_DEPLOYMENT_FILE}"):
                settings_folders.add(key[: -len(_DEPLOYMENT_FILE) - 1])
            if not key.endswith(f"/{_IR_FILE}"):
                continue
            folder = key[: -len(_IR_FILE) - 1]
            try:
                data = self._storage.read(key)
                if data is None:
                    continue
                deployment = self._deployment(folder, data)
            except RegistryError as error:
                logger.error("registry entry skipped: %s", error)
                continue
            found[deployment.key] = deployment
        loaded = {_folder_of(*key) for key in found}
        self.damaged_task_lists = {
            task_list
            for folder in sorted(settings_folders - loaded)
            if (task_list := self._damaged_task_list(folder)) is not None
        }
        return found

    def _damaged_task_list(self, folder: str) -> str | None:
        logger.error(
            "registry entry %s/%s has no readable IR: executions of its type are "
            "failed until it is deployed again",
            self.describe(),
            folder,
        )
        try:
            data = self._storage.read(f"{folder}/{_DEPLOYMENT_FILE}")
            settings = json.loads(data) if data is not None else None
        except (RegistryError, ValueError):
            return None
        task_list = (
            settings.get("decision_task_list") if isinstance(settings, dict) else None
        )
        return task_list if isinstance(task_list, str) and task_list else None

    def _deployment(self, folder: str, data: bytes) -> Deployment:
        origin = f"{self.describe()}/{folder}/{_IR_FILE}"
        try:
            ir = check_ir(json.loads(data), origin)
        except (ValueError, IRError) as error:
            raise RegistryError(f"{origin}: {error}") from None
        expected = _folder_of(ir["workflow"]["name"], ir["workflow"]["version"])
        if expected != folder:
            raise RegistryError(
                f"{origin} holds workflow {ir['workflow']['name']} version "
                f"{ir['workflow']['version']}, not the type its path names"
            )
        settings_data = self._storage.read(f"{folder}/{_DEPLOYMENT_FILE}")
        settings: dict[str, Any] = {}
        if settings_data is not None:
            try:
                loaded = json.loads(settings_data)
            except ValueError as error:
                raise RegistryError(
                    f"{self.describe()}/{folder}/{_DEPLOYMENT_FILE}: not JSON: {error}"
                ) from None
            settings = loaded if isinstance(loaded, dict) else {}
        task_list = settings.get("decision_task_list") or ir["workflow"]["task_list"]
        return Deployment(ir=ir, decision_task_list=str(task_list))


def _json_bytes(value: Any) -> bytes:
    # The layout of `cpec compile -o`: equal IR is equal bytes.
    return (
        json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    ).encode()


def open_registry(location: str, s3_client: Any = None) -> Registry:
    """The registry at a folder path or an `s3://bucket/prefix` address."""
    try:
        address = s3_address(location)
    except ValueError as error:
        raise RegistryError(str(error)) from None
    if address is not None:
        bucket, prefix = address
        return Registry(_S3Storage(bucket, unquote(prefix), s3_client))
    root = Path(location)
    if root.exists() and not root.is_dir():
        raise RegistryError(f"{location} is a file, not a registry folder")
    return Registry(_FolderStorage(root))
