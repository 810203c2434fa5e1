"""Custom options of descriptors (``google.api.field_behavior``, grpc-gateway's
``openapiv2_*``), read from whatever descriptor pool the descriptor lives in.

``descriptor.GetOptions()`` returns the default pool's options class, parsed
with the extensions that pool knew at the first call: an extension registered
later, or one known only to another pool (a ``FileDescriptorSet`` loaded into
its own ``DescriptorPool``), is left among the unknown fields. :func:`extension`
reparses the options with the class of the pool that defines the extension,
so it finds the value in either case.

Pure: protobuf only.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import EnumValueDescriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message

__all__ = ["FIELD_BEHAVIOR", "extension", "field_behaviors", "file_of"]

#: ``google.api.field_behavior`` (google/api/field_behavior.proto).
FIELD_BEHAVIOR = "google.api.field_behavior"


def file_of(descriptor: Any) -> Any:
    """The ``FileDescriptor`` a descriptor is declared in (methods and enum values
    have no ``file`` of their own)."""
    if isinstance(descriptor, MethodDescriptor):
        return descriptor.containing_service.file
    if isinstance(descriptor, EnumValueDescriptor):
        return descriptor.type.file
    return getattr(descriptor, "file", descriptor)


def _pools(descriptor: Any) -> list[Any]:
    pools = []
    file = file_of(descriptor)
    pool = getattr(file, "pool", None)
    if pool is not None:
        pools.append(pool)
    default = descriptor_pool.Default()
    if all(p is not default for p in pools):
        pools.append(default)
    return pools


def extension(descriptor: Any, name: str) -> Any:
    """The value of the extension ``name`` in ``descriptor``'s options, or ``None``.

    ``None`` when no pool the descriptor can see defines the extension or the
    options do not set it. A message extension comes back as a message, a
    repeated one as a (non-empty) sequence.
    """
    if not descriptor.has_options:
        return None
    options: Message = descriptor.GetOptions()
    for pool in _pools(descriptor):
        try:
            ext: FieldDescriptor = pool.FindExtensionByName(name)
        except KeyError:
            continue
        container = ext.containing_type
        if container is None:
            return None
        try:
            cls = message_factory.GetMessageClass(container)
            parsed = cls.FromString(options.SerializeToString())
        except (DecodeError, TypeError, KeyError):
            return None
        found: Any = ext  # the stubs type Extensions keys as generated extension handles
        if ext.is_repeated:
            values = parsed.Extensions[found]
            return list(values) if len(values) else None
        return parsed.Extensions[found] if parsed.HasExtension(found) else None
    return None


def field_behaviors(field: FieldDescriptor) -> frozenset[str]:
    """The ``google.api.field_behavior`` names of a field (``{"REQUIRED"}``, ...)."""
    values = extension(field, FIELD_BEHAVIOR)
    if not values:
        return frozenset()
    ext_pool = _pools(field)
    names: set[str] = set()
    for pool in ext_pool:
        try:
            enum = pool.FindEnumTypeByName("google.api.FieldBehavior")
        except KeyError:
            continue
        names.update(enum.values_by_number[v].name for v in values if v in enum.values_by_number)
        break
    return frozenset(names)
