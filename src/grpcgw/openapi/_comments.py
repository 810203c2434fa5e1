"""Proto comments from ``SourceCodeInfo``: summaries and descriptions.

Generated ``_pb2`` modules carry no source info, so comments exist only when a
``FileDescriptorSet`` built with ``protoc --include_source_info`` is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    EnumValueDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.descriptor_pb2 import FileDescriptorProto

from grpcgw.protoopts import file_of

# FileDescriptorProto / DescriptorProto / ... field numbers (descriptor.proto).
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_SERVICE_METHOD = 2
_ENUM_VALUE = 2

#: AIP-192: ``(-- ... --)`` marks a comment as internal, never published.
_INTERNAL = re.compile(r"\(--.*?--\)", re.DOTALL)


def _clean(text: str) -> str:
    text = _INTERNAL.sub("", text)
    lines = [line[1:] if line.startswith(" ") else line for line in text.split("\n")]
    return "\n".join(lines).strip()


class Comments:
    """Comments of the descriptors of some files, found by descriptor."""

    def __init__(self, files: Iterable[FileDescriptorProto] = ()) -> None:
        self._text: dict[tuple[str, tuple[int, ...]], str] = {}
        for file in files:
            for location in file.source_code_info.location:
                text = location.leading_comments or location.trailing_comments
                if text.strip():
                    cleaned = _clean(text)
                    if cleaned:
                        self._text[(file.name, tuple(location.path))] = cleaned

    def __bool__(self) -> bool:
        return bool(self._text)

    def of(self, descriptor: Any) -> str:
        """The comment of a service, method, message, field, enum or enum value, or ``""``."""
        if not self._text:
            return ""
        path = _path(descriptor)
        if path is None:
            return ""
        return self._text.get((file_of(descriptor).name, path), "")


def _message_path(desc: Descriptor) -> tuple[int, ...]:
    parent = desc.containing_type
    if parent is None:
        return (_FILE_MESSAGE, list(desc.file.message_types_by_name.values()).index(desc))
    return (*_message_path(parent), _MESSAGE_NESTED, list(parent.nested_types).index(desc))


def _enum_path(desc: EnumDescriptor) -> tuple[int, ...]:
    parent = desc.containing_type
    if parent is None:
        return (_FILE_ENUM, list(desc.file.enum_types_by_name.values()).index(desc))
    return (*_message_path(parent), _MESSAGE_ENUM, list(parent.enum_types).index(desc))


def _path(descriptor: Any) -> tuple[int, ...] | None:
    try:
        if isinstance(descriptor, ServiceDescriptor):
            return (_FILE_SERVICE, descriptor.index)
        if isinstance(descriptor, MethodDescriptor):
            service = descriptor.containing_service
            return (_FILE_SERVICE, service.index, _SERVICE_METHOD, descriptor.index)
        if isinstance(descriptor, FieldDescriptor):
            if descriptor.containing_type is None:  # an extension
                return None
            return (*_message_path(descriptor.containing_type), _MESSAGE_FIELD, descriptor.index)
        if isinstance(descriptor, Descriptor):
            return _message_path(descriptor)
        if isinstance(descriptor, EnumDescriptor):
            return _enum_path(descriptor)
        if isinstance(descriptor, EnumValueDescriptor):
            return (*_enum_path(descriptor.type), _ENUM_VALUE, descriptor.index)
    except ValueError:  # not found where the file lists its types
        return None
    return None


def split_summary(text: str) -> tuple[str, str]:
    """grpc-gateway's rule: a first paragraph of one line is the summary, the rest the
    description; otherwise all of it is the description."""
    first, _, rest = text.partition("\n\n")
    if first and "\n" not in first:
        return first.strip(), rest.strip()
    return "", text
