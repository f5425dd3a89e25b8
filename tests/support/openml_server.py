"""A local stand-in for the OpenML server, for tests of the OpenML code path with no internet.

`OpenMLTestServer` serves the real OpenML files kept in ``../shared/openml-format`` over HTTP on
127.0.0.1, answering the XML API paths that the `openml` client (0.15.1) requests:

    /api/v1/xml/data/{id}              dataset description (2: anneal, 61: iris)
    /api/v1/xml/data/features/{id}     feature descriptions
    /api/v1/xml/data/qualities/{id}    meta-features
    /api/v1/xml/task/{id}              task description (1882 and 3)
    /api/v1/xml/study/{id or alias}    benchmark suite 146
    /data/v1/download/{file_id}/{name} the ARFF file a description's <oml:url> points at
    /api_splits/get/{tid}/Task_{tid}_splits.arff   a task's splits (<oml:data_splits_url>)

URLs inside the served XML are rewritten to point at this server. Unknown ids get the HTTP status
(412) and ``<oml:error>`` body that OpenML sends, so the client raises its usual exceptions.
Responses are gzip-compressed when the request accepts gzip, as OpenML does.

Fault injection (``fail_next``, ``hang_next``, ``truncate_next``) lets a test reproduce an
overloaded proxy, a server that stops answering, or an interrupted download.

    with OpenMLTestServer(shared_dir) as server:
        openml.config.server = server.url
        ...
        assert server.requests == ["/api/v1/xml/data/2", ...]
"""

from __future__ import annotations

import gzip
import hashlib
import re
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

API_PREFIX = "/api/v1/xml/"
DOWNLOAD_PREFIX = "/data/v1/download/"
SPLITS_PREFIX = "/api_splits/get/"

XML_TYPE = "text/xml; charset=utf-8"
ARFF_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html"

# OpenML's own error codes and messages (openml_OS/views/pages/api_new/v1/xml/pre.php);
# the old PHP API answers all of them with "412 Precondition Failed".
UNKNOWN_DATASET = (111, "Unknown dataset")
UNKNOWN_DATASET_FEATURES = (271, "Unknown dataset")
UNKNOWN_DATASET_QUALITIES = (361, "Unknown dataset")
UNKNOWN_TASK = (151, "Unknown task")
UNKNOWN_STUDY = (601, "Study does not exist. ")
FUNCTION_NOT_VALID = (100, "Function not valid")


NO_TASKS = (482, "No results")

# The tasks of the stored suite (study_suite.xml lists tasks 4, 5 and 6) as the task listing
# describes them. ../shared holds no listing, so each is described on a dataset this server
# has: two classification tasks and one regression task, as a mixed suite such as the AutoML
# Benchmark's has. (name, dataset id, task type id, task type, target, rows, features, classes)
SUITE_TASKS = {
    4: ("iris", 61, 1, "Supervised Classification", "class", 150, 5, 3),
    5: ("anneal", 2, 1, "Supervised Classification", "class", 898, 39, 5),
    6: ("iris", 61, 2, "Supervised Regression", "petallength", 150, 5, 0),
}


def _task_list_xml(task_ids: list[int]) -> bytes:
    """OpenML's ``task/list`` answer for ``task_ids``: ids, type, dataset, inputs, qualities."""
    tasks = []
    for tid in task_ids:
        name, did, ttid, kind, target, rows, features, classes = SUITE_TASKS[tid]
        qualities = {
            "NumberOfInstances": rows,
            "NumberOfFeatures": features,
            "NumberOfClasses": classes,
            "NumberOfMissingValues": 0,
        }
        tasks.append(
            "  <oml:task>\n"
            f"    <oml:task_id>{tid}</oml:task_id>\n"
            f"    <oml:task_type_id>{ttid}</oml:task_type_id>\n"
            f"    <oml:task_type>{kind}</oml:task_type>\n"
            f"    <oml:did>{did}</oml:did>\n"
            f"    <oml:name>{name}</oml:name>\n"
            "    <oml:status>active</oml:status>\n"
            "    <oml:format>ARFF</oml:format>\n"
            '    <oml:input name="estimation_procedure">1</oml:input>\n'
            f'    <oml:input name="target_feature">{target}</oml:input>\n'
            + "".join(
                f'    <oml:quality name="{q}">{v:.1f}</oml:quality>\n' for q, v in qualities.items()
            )
            + "  </oml:task>\n"
        )
    return (
        '<oml:tasks xmlns:oml="http://openml.org/openml">\n' + "".join(tasks) + "</oml:tasks>\n"
    ).encode()


def _estimation_procedures_xml() -> bytes:
    """OpenML's ``estimationprocedure/list`` answer, the procedures the listing refers to."""
    procedures = [
        (1, 1, "10-fold Crossvalidation", "crossvalidation"),
        (7, 2, "10-fold Crossvalidation", "crossvalidation"),
    ]
    items = "".join(
        "  <oml:estimationprocedure>\n"
        f"    <oml:id>{pid}</oml:id>\n    <oml:ttid>{ttid}</oml:ttid>\n"
        f"    <oml:name>{name}</oml:name>\n    <oml:type>{kind}</oml:type>\n"
        "  </oml:estimationprocedure>\n"
        for pid, ttid, name, kind in procedures
    )
    return (
        '<oml:estimationprocedures xmlns:oml="http://openml.org/openml">\n'
        + items
        + "</oml:estimationprocedures>\n"
    ).encode()


def _proxy_error_page(status: int) -> bytes:
    """An error page like the one nginx sends when the backend fails (HTML, not well-formed XML)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def oml_error_xml(code: int, message: str) -> bytes:
    """The body OpenML's XML API sends with an error."""
    return (
        '<oml:error xmlns:oml="http://openml.org/openml">\n'
        f"  <oml:code>{code}</oml:code>\n"
        f"  <oml:message>{message}</oml:message>\n"
        "</oml:error>\n"
    ).encode()


def _replace_element(xml: str, tag: str, value: str | None) -> str:
    """Set the text of ``<oml:TAG>`` (which must exist) or, with value None, remove the element."""
    pattern = re.compile(rf"<oml:{tag}>.*?</oml:{tag}>", re.DOTALL)
    if not pattern.search(xml):
        if value is None:
            return xml
        raise ValueError(f"<oml:{tag}> not found")
    replacement = "" if value is None else f"<oml:{tag}>{value}</oml:{tag}>"
    return pattern.sub(lambda _match: replacement, xml, count=1)


def _element_text(xml: str, tag: str) -> str | None:
    match = re.search(rf"<oml:{tag}>(.*?)</oml:{tag}>", xml, re.DOTALL)
    return match.group(1).strip() if match else None


def _basic_qualities(arff_bytes: bytes) -> bytes:
    """A minimal qualities document for a dataset whose qualities file is not stored.

    The client cannot load a dataset's qualities when the server has none: an empty
    <oml:data_qualities/> makes its parser fail (TypeError/KeyError), and its check for error
    362 "No qualities found" compares against a string its exception never produces. So the
    basic counts are computed from the ARFF file served.
    """
    text = arff_bytes.decode("utf-8")
    header, _, data = text.partition("@data")
    attributes = [line for line in header.splitlines() if line.lower().startswith("@attribute")]
    rows = [line for line in data.splitlines() if line.strip() and not line.startswith("%")]
    nominal = [a for a in attributes if "{" in a]
    classes = nominal[-1].split("{", 1)[1].rsplit("}", 1)[0].split(",") if nominal else []
    missing = sum(value.strip() == "?" for row in rows for value in row.split(","))
    qualities = {
        "NumberOfInstances": len(rows),
        "NumberOfFeatures": len(attributes),
        "NumberOfClasses": len(classes),
        "NumberOfMissingValues": missing,
        "NumberOfNumericFeatures": len(attributes) - len(nominal),
        "NumberOfSymbolicFeatures": len(nominal),
    }
    items = "".join(
        f"  <oml:quality>\n    <oml:name>{name}</oml:name>\n"
        f"    <oml:value>{float(value)}</oml:value>\n  </oml:quality>\n"
        for name, value in qualities.items()
    )
    return (
        f'<oml:data_qualities xmlns:oml="http://openml.org/openml">\n{items}</oml:data_qualities>\n'
    ).encode()


@dataclass
class Resource:
    body: bytes
    content_type: str
    status: int = 200
    is_download: bool = False
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzipped


class RequestLog(list):
    """The paths requested, in order (a list; appends and clears take a lock)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def append(self, item: str) -> None:
        with self._lock:
            super().append(item)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self)


class _HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    owner: OpenMLTestServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 30  # idle keep-alive connections give up eventually

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._connection_closed(self.connection)

    def do_GET(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        owner.requests.append(path)

        hang = owner._take_fault("hang")
        if hang is not None and owner._stopping.wait(hang):
            self.close_connection = True  # stopped while hanging: drop the request unanswered
            return

        fail = owner._take_fault("fail")
        if fail is not None:
            status, body = fail
            self._send(status, body, HTML_TYPE, compress=False)
            return

        resource = owner._resolve(path)
        truncate = resource.is_download and owner._take_fault("truncate") is not None
        self._send(resource.status, resource, resource.content_type, truncate=truncate)

    def _send(
        self,
        status: int,
        body: bytes | Resource,
        content_type: str,
        *,
        compress: bool = True,
        truncate: bool = False,
    ) -> None:
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        encoding = None
        if isinstance(body, Resource):
            if compress and accepts_gzip:
                payload, encoding = body.gzipped(), "gzip"
            else:
                payload = body.body
        else:
            payload = body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(payload)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(payload)


class OpenMLTestServer:
    """An OpenML XML API on 127.0.0.1, serving ``shared/openml-format``. See the module docstring.

    ``port=0`` lets the OS pick a free port; after ``stop()``, ``start()`` binds the same port
    again (the client keys its cache by host and port), as does a new server given ``port=``.
    """

    def __init__(self, shared_dir: str | Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.shared_dir = Path(shared_dir)
        if not self.shared_dir.is_dir():
            raise FileNotFoundError(f"{self.shared_dir} not found")
        self.host = host
        self._port = port
        self.requests = RequestLog()
        # Dataset id -> (checksum in the stored description, md5 of the file served), where the
        # two differ: the served description carries the md5 of the bytes actually served.
        self.checksum_mismatches: dict[int, tuple[str | None, str]] = {}
        self._faults: dict[str, list] = {"hang": [], "fail": [], "truncate": []}
        self._faults_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: dict[str, Resource] = {}

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def url(self) -> str:
        """What ``openml.config.server`` must be set to."""
        return f"{self.base_url}/api/v1/xml"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> OpenMLTestServer:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self._port), _Handler)
        httpd.owner = self
        self._port = httpd.server_address[1]
        self._routes = self._build_routes()
        self._stopping.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"openml-test-server-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: further connections are refused.

        Hanging handlers are woken and drop their request; open keep-alive connections are shut.
        """
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None
        self.reset_faults()

    def __enter__(self) -> OpenMLTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- fault injection -------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500, body: bytes | None = None) -> None:
        """The next n requests get ``status`` with a non-XML body (an nginx-like HTML page)."""
        page = _proxy_error_page(status) if body is None else body
        with self._faults_lock:
            self._faults["fail"].extend([(status, page)] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        """The next n requests wait ``seconds`` before being answered (cut short by ``stop()``)."""
        with self._faults_lock:
            self._faults["hang"].extend([seconds] * n)

    def truncate_next(self, n: int) -> None:
        """The next n file downloads (ARFF, splits) send the full Content-Length, half the bytes,
        then close the connection."""
        with self._faults_lock:
            self._faults["truncate"].extend([True] * n)

    def reset_faults(self) -> None:
        with self._faults_lock:
            for pending in self._faults.values():
                pending.clear()

    def _take_fault(self, kind: str):
        with self._faults_lock:
            pending = self._faults[kind]
            return pending.pop(0) if pending else None

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    # -- content ---------------------------------------------------------------------------

    def _read(self, *parts: str) -> bytes:
        return self.shared_dir.joinpath(*parts).read_bytes()

    def _build_routes(self) -> dict[str, Resource]:
        routes: dict[str, Resource] = {}
        cache = ("cache", "org", "openml", "test")

        # dataset 2 (anneal), stored as the client caches it
        d2 = (*cache, "datasets", "2")
        self._add_dataset(
            routes,
            2,
            description=self._read(*d2, "description.xml"),
            features=self._read(*d2, "features.xml"),
            qualities=self._read(*d2, "qualities.xml"),
            arff=self._read(*d2, "dataset.arff"),
        )
        # dataset 61 (iris), stored as API responses; no qualities file is stored
        iris_arff = self._read("api", "iris.arff")
        self._add_dataset(
            routes,
            61,
            description=self._read("api", "data_description_61.xml"),
            features=self._read("api", "data_features_61.xml"),
            qualities=_basic_qualities(iris_arff),
            arff=iris_arff,
        )
        # tasks 1882 and 3 as stored; task 5 of suite 146 (anneal, see SUITE_TASKS) is served
        # as the stored anneal task 1882 under its id, so that the suite can run end to end
        for task_id, stored in ((1882, 1882), (3, 3), (5, 1882)):
            task_dir = (*cache, "tasks", str(stored))
            splits_path = f"{SPLITS_PREFIX}{task_id}/Task_{task_id}_splits.arff"
            task_xml = self._read(*task_dir, "task.xml").decode("utf-8")
            task_xml = _replace_element(task_xml, "data_splits_url", self.base_url + splits_path)
            task_xml = _replace_element(task_xml, "task_id", str(task_id))
            routes[f"{API_PREFIX}task/{task_id}"] = Resource(task_xml.encode(), XML_TYPE)
            routes[splits_path] = Resource(
                self._read(*task_dir, "datasplits.arff"), ARFF_TYPE, is_download=True
            )

        suite = self._read("api", "study_suite.xml")
        suite_text = suite.decode("utf-8")
        for key in (_element_text(suite_text, "id"), _element_text(suite_text, "alias")):
            if key:
                routes[f"{API_PREFIX}study/{key}"] = Resource(suite, XML_TYPE)
        routes[f"{API_PREFIX}estimationprocedure/list"] = Resource(
            _estimation_procedures_xml(), XML_TYPE
        )
        return routes

    def _task_list(self, endpoint: str) -> Resource | None:
        """``task/list/.../task_id/4,5,6/...``: the listed tasks of :data:`SUITE_TASKS` that
        were asked for, in OpenML's listing format; none known is OpenML's 'no results'."""
        match = re.search(r"(?:^|/)task_id/([\d,]+)", endpoint)
        if not endpoint.startswith("task/list") or match is None:
            return None
        asked = [int(t) for t in match.group(1).split(",") if t]
        known = [t for t in asked if t in SUITE_TASKS]
        if not known:
            return Resource(oml_error_xml(*NO_TASKS), XML_TYPE, status=412)
        return Resource(_task_list_xml(known), XML_TYPE)

    def _add_dataset(
        self,
        routes: dict[str, Resource],
        dataset_id: int,
        *,
        description: bytes,
        features: bytes,
        qualities: bytes,
        arff: bytes,
    ) -> None:
        xml = description.decode("utf-8")
        file_id = _element_text(xml, "file_id") or str(dataset_id)
        name = _element_text(xml, "name") or f"dataset_{dataset_id}"
        download_path = f"{DOWNLOAD_PREFIX}{file_id}/{name}.arff"
        xml = _replace_element(xml, "url", self.base_url + download_path)
        # Parquet lives in MinIO, which this server does not emulate: without these the client
        # goes straight to the ARFF file.
        xml = _replace_element(xml, "parquet_url", None)
        xml = _replace_element(xml, "minio_url", None)
        published = _element_text(xml, "md5_checksum")
        actual = hashlib.md5(arff).hexdigest()
        if published != actual:
            self.checksum_mismatches[dataset_id] = (published, actual)
            if published is None:
                xml = xml.replace(
                    "</oml:data_set_description>",
                    f"<oml:md5_checksum>{actual}</oml:md5_checksum>\n</oml:data_set_description>",
                )
            else:
                xml = _replace_element(xml, "md5_checksum", actual)
        routes[f"{API_PREFIX}data/{dataset_id}"] = Resource(xml.encode("utf-8"), XML_TYPE)
        routes[f"{API_PREFIX}data/features/{dataset_id}"] = Resource(features, XML_TYPE)
        routes[f"{API_PREFIX}data/qualities/{dataset_id}"] = Resource(qualities, XML_TYPE)
        routes[download_path] = Resource(arff, ARFF_TYPE, is_download=True)

    def _resolve(self, path: str) -> Resource:
        resource = self._routes.get(path)
        if resource is not None:
            return resource
        if path.startswith(API_PREFIX):
            endpoint = path[len(API_PREFIX) :]
            listing = self._task_list(endpoint)
            if listing is not None:
                return listing
            if endpoint.startswith("data/features/"):
                code = UNKNOWN_DATASET_FEATURES
            elif endpoint.startswith("data/qualities/"):
                code = UNKNOWN_DATASET_QUALITIES
            elif re.fullmatch(r"data/\d+", endpoint):
                code = UNKNOWN_DATASET
            elif re.fullmatch(r"task/\d+", endpoint):
                code = UNKNOWN_TASK
            elif endpoint.startswith("study/"):
                code = UNKNOWN_STUDY
            else:
                code = FUNCTION_NOT_VALID
            return Resource(oml_error_xml(*code), XML_TYPE, status=412)
        return Resource(_proxy_error_page(404), HTML_TYPE, status=404)
