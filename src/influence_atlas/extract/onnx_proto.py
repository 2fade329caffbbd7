"""ONNX graphs read and written as protobuf bytes, without the onnx package.

The analysis builds its ONNX Runtime graphs when a process loads its models: MiniLM's graph with more outputs (and
optionally int8 products, `encoder.int8_products`), the technique tagger's and the stance model's layers. Importing the
onnx package for that cost about 0.7 CPU-s per process (most of it the package's own numeric types, which these graphs
do not need), so the few messages those graphs use are written and read here directly in protobuf's wire format:
ModelProto, GraphProto, NodeProto, AttributeProto (int, float and int-list attributes), TensorProto (from a numpy
array, raw data) and ValueInfoProto (tensor type and shape). Field numbers are onnx.proto's. ONNX Runtime parses the
bytes as it parses the onnx package's; tests/test_encoder.py reads them back with onnx itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

FLOAT, UINT8, INT8, INT32, INT64 = 1, 2, 3, 6, 7  # TensorProto.DataType
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8, np.dtype(np.int8): INT8,
           np.dtype(np.int32): INT32, np.dtype(np.int64): INT64}
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as protobuf writes them
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else bytes(value)
    return _key(number, 2) + _varint(len(data)) + data


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, Any, int, int]]:
    """Yield (field number, wire type, value, start, end) for each field of one serialised message: the value is an
    int (varint), a memoryview (length-delimited) or bytes (fixed width); buf[start:end] is the whole field."""
    view = memoryview(buf)
    pos, end = 0, len(view)

    def varint() -> int:
        nonlocal pos
        shift = value = 0
        while True:
            byte = view[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    while pos < end:
        start = pos
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any = varint()
        elif wire == 2:
            size = varint()
            value, pos = view[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = bytes(view[pos:pos + size]), pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("truncated protobuf message")
        yield number, wire, value, start, pos


@dataclass(slots=True)
class Node:
    """One graph node; its inputs may be renamed before the graph is written."""

    op_type: str
    input: list[str]
    output: list[str]
    domain: str = ""
    attributes: dict[str, object] = field(default_factory=dict)
    raw: bytes | None = None  # a node read from a graph, written back as it was unless its inputs were renamed
    _read_input: tuple[str, ...] = ()

    def serialise(self) -> bytes:
        if self.raw is not None and tuple(self.input) == self._read_input:
            return self.raw
        out = b"".join(_bytes(1, name) for name in self.input) + b"".join(_bytes(2, name) for name in self.output)
        out += _bytes(4, self.op_type)
        for name, value in self.attributes.items():
            out += _bytes(5, _attribute(name, value))
        if self.domain:
            out += _bytes(7, self.domain)
        return out


def _attribute(name: str, value: object) -> bytes:
    out = _bytes(1, name)
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return out + _int(3, int(value)) + _int(20, _ATTR_INT)
    if isinstance(value, (float, np.floating)):
        return out + _key(2, 5) + struct.pack("<f", float(value)) + _int(20, _ATTR_FLOAT)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in value):
        return out + b"".join(_int(8, int(v)) for v in value) + _int(20, _ATTR_INTS)
    raise TypeError(f"attribute {name!r}: unsupported value {value!r}")


def make_node(op_type: str, inputs: list[str], outputs: list[str], domain: str | None = None, **attributes) -> Node:
    """Return a node (attributes: int, float or list of ints), as onnx.helper.make_node."""
    return Node(op_type, list(inputs), list(outputs), domain or "", attributes)


def from_array(array, name: str) -> bytes:
    """Return a serialised TensorProto named `name` holding `array` (float32, uint8, int8, int32 or int64) as raw
    data."""
    array = np.asarray(array)
    if array.dtype not in _DTYPES:
        raise TypeError(f"tensor {name!r}: unsupported dtype {array.dtype}")
    out = b"".join(_int(1, d) for d in array.shape) + _int(2, _DTYPES[array.dtype]) + _bytes(8, name)
    return out + _bytes(9, np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


def value_info(name: str, elem_type: int, shape: list[int | None]) -> bytes:
    """Return a serialised ValueInfoProto of a tensor (None: a dimension of unknown size)."""
    dims = b"".join(_bytes(1, b"" if d is None else _int(1, d)) for d in shape)
    tensor = _int(1, elem_type) + _bytes(2, dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))


def make_graph(nodes: list[Node], name: str, inputs: list[bytes], outputs: list[bytes],
               initializers: list[bytes]) -> bytes:
    """Return a serialised GraphProto (inputs and outputs from `value_info`, initializers from `from_array`)."""
    return (b"".join(_bytes(1, n.serialise()) for n in nodes) + _bytes(2, name)
            + b"".join(_bytes(5, t) for t in initializers) + b"".join(_bytes(11, v) for v in inputs)
            + b"".join(_bytes(12, v) for v in outputs))


def make_model(graph: bytes, opsets: dict[str, int], ir_version: int = 8) -> bytes:
    """Return a serialised ModelProto of `graph` importing the operator sets `opsets` (domain -> version)."""
    return (_int(1, ir_version) + b"".join(_bytes(8, _bytes(1, d) + _int(2, v)) for d, v in opsets.items())
            + _bytes(7, graph))


@dataclass(slots=True)
class Graph:
    """A model read from its bytes: its nodes, its initializers' names, types and shapes, and the rest of the graph
    and model kept as bytes, so that `serialise` writes back what it did not change."""

    nodes: list[Node]
    initializers: dict[str, tuple[int, tuple[int, ...]]]  # name -> (data type, dims)
    outputs: list[str]
    graph_rest: list[bytes]  # fields of the graph other than its nodes, as read
    model_rest: list[bytes]  # fields of the model other than its graph, as read
    new_initializers: list[bytes] = field(default_factory=list)
    new_outputs: list[bytes] = field(default_factory=list)

    @classmethod
    def read(cls, data: bytes) -> "Graph":
        """Read a serialised ModelProto; ValueError when it is not one."""
        graph: Any = None
        model_rest: list[bytes] = []
        for number, wire, value, start, end in fields(data):
            if number == 7 and wire == 2:
                graph = value
            else:
                model_rest.append(bytes(memoryview(data)[start:end]))
        if graph is None:
            raise ValueError("no graph in the model")
        nodes: list[Node] = []
        inits: dict[str, tuple[int, tuple[int, ...]]] = {}
        outputs: list[str] = []
        rest: list[bytes] = []
        for number, wire, value, start, end in fields(graph):
            if number == 1 and wire == 2:
                nodes.append(_read_node(bytes(value)))
                continue
            rest.append(bytes(graph[start:end]))
            if number == 5 and wire == 2:
                name, dtype, dims = _read_tensor_header(value)
                inits[name] = (dtype, dims)
            elif number == 12 and wire == 2:
                outputs += [bytes(v).decode() for n, w, v, _, _ in fields(value) if n == 1 and w == 2]
        return cls(nodes, inits, outputs, rest, model_rest)

    def add_output(self, name: str, elem_type: int = FLOAT, shape: list[int | None] | None = None) -> None:
        """Make the values named `name` one more output of the graph (unless they are one already)."""
        if name not in self.outputs:
            self.outputs.append(name)
            self.new_outputs.append(value_info(name, elem_type, shape or [None, None, None]))

    def serialise(self) -> bytes:
        graph = (b"".join(_bytes(1, n.serialise()) for n in self.nodes) + b"".join(self.graph_rest)
                 + b"".join(_bytes(5, t) for t in self.new_initializers)
                 + b"".join(_bytes(12, v) for v in self.new_outputs))
        return b"".join(self.model_rest) + _bytes(7, graph)


def _read_node(data: bytes) -> Node:
    node = Node("", [], [], raw=data)
    for number, wire, value, _, _ in fields(data):
        if wire != 2:
            continue
        if number == 1:
            node.input.append(bytes(value).decode())
        elif number == 2:
            node.output.append(bytes(value).decode())
        elif number == 4:
            node.op_type = bytes(value).decode()
        elif number == 7:
            node.domain = bytes(value).decode()
    node._read_input = tuple(node.input)
    return node


def _read_tensor_header(data) -> tuple[str, int, tuple[int, ...]]:
    name, dtype, dims = "", 0, list[int]()
    for number, wire, value, _, _ in fields(data):
        if number == 1 and wire == 0:
            dims.append(value)
        elif number == 1 and wire == 2:  # packed dims
            dims += [v for _, _, v, _, _ in fields(_packed_as_fields(value))]
        elif number == 2 and wire == 0:
            dtype = value
        elif number == 8 and wire == 2:
            name = bytes(value).decode()
    return name, dtype, tuple(dims)


def _packed_as_fields(data) -> bytes:
    """Packed varints rewritten as unpacked fields numbered 1, so `fields` reads them."""
    out, pos, view = bytearray(), 0, bytes(data)
    while pos < len(view):
        start = pos
        while view[pos] & 0x80:
            pos += 1
        pos += 1
        out += b"\x08" + view[start:pos]
    return bytes(out)
