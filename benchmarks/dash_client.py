"""A tiny Dash client that drives ``/_dash-update-component`` exactly as dash-renderer does.

It reads ``/_dash-layout`` (initial property values of every component with an id) and
``/_dash-dependencies`` (callback signatures), so it follows whatever callbacks the app has
today: benchmarks do not break when a callback is split or re-wired.

``change(id, prop, value)`` posts every server-side callback that has that input, with the
current values of all its inputs and states and ``changedPropIds`` naming the change (the body
dash-renderer sends: ``output``, ``outputs``, ``inputs``, ``state``, ``changedPropIds``). Plain
(non-Patch) outputs update the client's copy of the values; with ``follow=1`` the callbacks that
take one of those outputs as input are posted once more (one level, as the browser would chain
them, e.g. the URL sync writing ``url.search`` triggers the share links). Requests are sent one
after the other on one keep-alive connection (the browser sends the first level in parallel).

Uses only the standard library, with ``Accept-Encoding: gzip``, so wire bytes are what a browser
would receive.
"""

from __future__ import annotations

import gzip
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

PATCH_MARKER = "__dash_patch_update"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    wire_bytes: int  # body bytes as transferred (compressed when the server compressed)
    raw_bytes: int  # body bytes after decompression
    body: bytes  # decompressed
    seconds: float  # request sent -> whole body received

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class CallRecord:
    """One ``/_dash-update-component`` request."""

    output: str  # the callback's output id string as in /_dash-dependencies
    trigger: list[str]  # changedPropIds
    level: int  # 0 = fired by the change itself, 1 = chained from a level-0 output
    status: int
    wire_bytes: int
    raw_bytes: int
    seconds: float
    patch: bool  # the response was (at least partly) a dash.Patch
    encoding: str  # Content-Encoding of the response ("" = identity)


@dataclass
class Callback:
    output: str
    outputs: list[tuple[str, str]]  # (id, property as sent, with any @hash suffix)
    inputs: list[tuple[str, str]]
    state: list[tuple[str, str]]
    prevent_initial_call: bool
    multi: bool

    @property
    def output_props(self) -> set[tuple[str, str]]:
        return {(i, p.split("@")[0]) for i, p in self.outputs}


def _split_output(output: str) -> list[tuple[str, str]]:
    """``..a.b...c.d..`` or ``a.b`` -> [(id, prop), ...] (dash's own split_callback_id)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    pairs = []
    for part in parts:
        comp, prop = part.rsplit(".", 1)
        pairs.append((comp.replace("\\.", "."), prop))
    return pairs


def _walk(node: Any, found: dict[tuple[str, str], Any], types: dict[str, str]) -> None:
    """Collect the props of every component with a plain string id."""
    if isinstance(node, list):
        for item in node:
            _walk(item, found, types)
        return
    if not isinstance(node, dict):
        return
    props = node.get("props")
    if "type" in node and "namespace" in node and isinstance(props, dict):
        comp_id = props.get("id")
        if isinstance(comp_id, str):
            types[comp_id] = node["type"]
            for key, value in props.items():
                if key != "children":
                    found[(comp_id, key)] = value
        for value in props.values():
            _walk(value, found, types)


class DashClient:
    """Keep-alive HTTP client to one Dash app (not thread-safe: one per virtual user)."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, gzip_ok: bool = True) -> None:
        parts = urlparse(base_url)
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.gzip_ok = gzip_ok
        self._conn: http.client.HTTPConnection | None = None
        self.values: dict[tuple[str, str], Any] = {}
        self.types: dict[str, str] = {}
        self.callbacks: list[Callback] = []
        self.records: list[CallRecord] = []

    # -- HTTP ---------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """One request; retried once on a dropped keep-alive connection (workers recycle)."""
        sent = {"Accept-Encoding": "gzip" if self.gzip_ok else "identity", **(headers or {})}
        for attempt in (1, 2):
            conn = self._connection()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                resp = conn.getresponse()
                wire = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - start
            resp_headers = {k.lower(): v for k, v in resp.getheaders()}
            if resp_headers.get("connection", "").lower() == "close":
                self.close()
            encoding = resp_headers.get("content-encoding", "")
            raw = gzip.decompress(wire) if encoding == "gzip" and wire else wire
            return Response(resp.status, resp_headers, len(wire), len(raw), raw, seconds)
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    # -- Dash ---------------------------------------------------------------------------------
    def load(self, query: str = "") -> tuple[Response, Response]:
        """Read the layout and the callbacks, as the renderer does after the index page.

        ``query`` is the page's query string (``?cohort=...``); the layout request carries it as
        the Referer, and the ``dcc.Location`` component gets the matching pathname/search/href.
        """
        page = f"{self.base_url}/{query}"
        layout = self.get("/_dash-layout", headers={"Referer": page})
        deps = self.get("/_dash-dependencies", headers={"Referer": page})
        if layout.status != 200 or deps.status != 200:
            raise RuntimeError(f"layout {layout.status}, dependencies {deps.status}")
        self.values, self.types = {}, {}
        _walk(layout.json(), self.values, self.types)
        for comp_id, kind in self.types.items():
            if kind == "Location":
                self.values[(comp_id, "pathname")] = "/"
                self.values[(comp_id, "search")] = query
                self.values[(comp_id, "href")] = page
                self.values[(comp_id, "hash")] = ""
        self.callbacks = []
        for spec in deps.json():
            if spec.get("clientside_function"):
                continue  # runs in the browser, never reaches the server
            self.callbacks.append(
                Callback(
                    output=spec["output"],
                    outputs=_split_output(spec["output"]),
                    inputs=[(d["id"], d["property"]) for d in spec["inputs"]],
                    state=[(d["id"], d["property"]) for d in spec.get("state", [])],
                    prevent_initial_call=bool(spec.get("prevent_initial_call")),
                    multi=spec["output"].startswith(".."),
                )
            )
        return layout, deps

    def value(self, comp_id: str, prop: str) -> Any:
        return self.values.get((comp_id, prop))

    def _dep(self, comp_id: str, prop: str) -> dict:
        dep: dict[str, Any] = {"id": comp_id, "property": prop}
        if (comp_id, prop) in self.values:  # undefined values are left out, as JSON.stringify does
            dep["value"] = self.values[(comp_id, prop)]
        return dep

    def body(self, callback: Callback, changed: list[str]) -> dict:
        """The JSON dash-renderer posts for this callback."""
        outputs = [{"id": i, "property": p} for i, p in callback.outputs]
        body: dict[str, Any] = {
            "output": callback.output,
            "outputs": outputs if callback.multi else outputs[0],
            "inputs": [self._dep(i, p) for i, p in callback.inputs],
            "changedPropIds": changed,
        }
        if callback.state:
            body["state"] = [self._dep(i, p) for i, p in callback.state]
        return body

    def call(self, callback: Callback, changed: list[str], level: int = 0) -> tuple[CallRecord, dict]:
        """Post one callback; apply its plain outputs; return the record and what changed."""
        payload = json.dumps(self.body(callback, changed)).encode()
        resp = self.request("POST", "/_dash-update-component", payload, {"Content-Type": "application/json"})
        updated: dict[tuple[str, str], Any] = {}
        patch = False
        if resp.status == 200:
            data = resp.json() or {}
            for comp_id, props in (data.get("response") or {}).items():
                for prop, value in props.items():
                    if isinstance(value, dict) and value.get(PATCH_MARKER) == PATCH_MARKER:
                        patch = True  # a Patch of a figure: the client does not keep figures
                        continue
                    updated[(comp_id, prop)] = value
        record = CallRecord(
            output=callback.output,
            trigger=changed,
            level=level,
            status=resp.status,
            wire_bytes=resp.wire_bytes,
            raw_bytes=resp.raw_bytes,
            seconds=resp.seconds,
            patch=patch,
            encoding=resp.headers.get("content-encoding", ""),
        )
        self.values.update(updated)
        return record, updated

    def listeners(self, props: set[tuple[str, str]]) -> list[Callback]:
        return [cb for cb in self.callbacks if props & set(cb.inputs)]

    def change(self, comp_id: str, prop: str, value: Any, *, follow: int = 1) -> list[CallRecord]:
        """Set one property as a user would and post every callback it triggers (see module doc)."""
        self.values[(comp_id, prop)] = value
        records: list[CallRecord] = []
        wave = [(cb, [f"{comp_id}.{prop}"]) for cb in self.listeners({(comp_id, prop)})]
        for level in range(follow + 1):
            changed_now: dict[tuple[str, str], Any] = {}
            fired: list[Callback] = []
            for callback, changed in wave:
                record, updated = self.call(callback, changed, level)
                records.append(record)
                fired.append(callback)
                changed_now.update(updated)
            if level == follow or not changed_now:
                break
            next_wave = []
            for callback in self.listeners(set(changed_now)):
                if callback in fired:
                    continue  # Dash does not re-run a callback for its own outputs
                changed = [f"{i}.{p}" for i, p in callback.inputs if (i, p) in changed_now]
                next_wave.append((callback, changed))
            wave = next_wave
        self.records.extend(records)
        return records

    def initial_callbacks(self) -> list[CallRecord]:
        """What the renderer fires on page load: every callback without prevent_initial_call."""
        records = []
        for callback in self.callbacks:
            if not callback.prevent_initial_call:
                record, _ = self.call(callback, [], 0)
                records.append(record)
        self.records.extend(records)
        return records
