"""The compiled codecs of one descriptor pool, and the default pool's."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message

from grpcgw.protojson._base import has_json_form
from grpcgw.protojson._check import Checker
from grpcgw.protojson._decode import Decoder, Fill, build_fill, special_fill
from grpcgw.protojson._encode import (
    TEXT_FORMS,
    Encode,
    Encoder,
    Options,
    OptionsKey,
    Value,
    Write,
    build_encoder,
    build_writer,
    dumps,
)
from grpcgw.protojson._times import timestamp_json

_K = TypeVar("_K")
_F = TypeVar("_F")

#: Codecs are built one at a time: another thread waits for a build under way
#: rather than taking a half-registered type for a recursive one.
_BUILD_LOCK: Final = threading.RLock()


class Codecs:
    """The JSON codecs of the message types of one descriptor pool.

    It owns the compiled encoders and decoders of the pool's types (built on
    first use, kept while it lives) and passes ``descriptor_pool=`` to every
    ``json_format`` call it makes, so an ``Any`` resolves its ``@type`` from
    that pool. Nothing outside it refers to them: drop the instance (and the
    encoders and decoders taken from it) and the pool's codecs are freed with
    it. :func:`codecs_for` gives the shared instance of a pool;
    :func:`grpcgw.protojson.encoder` and :func:`~grpcgw.protojson.decoder` use it.
    """

    __slots__ = (
        "__weakref__",
        "_building",
        "_decoders",
        "_encoders",
        "_fills",
        "_message_encoders",
        "_writers",
        "checker",
        "pool",
        "strict_checker",
    )

    def __init__(self, pool: DescriptorPool | None = None) -> None:
        #: The pool whose message types these codecs read and write.
        self.pool: DescriptorPool = descriptor_pool.Default() if pool is None else pool
        #: The checks of the reference path, unknown fields ignored / refused.
        self.checker = Checker(self.pool)
        self.strict_checker = Checker(self.pool, ignore_unknown_fields=False)
        self._encoders: dict[tuple[Descriptor, bool, bool, bool], Encoder] = {}
        self._decoders: dict[tuple[Descriptor, bool], Decoder] = {}
        self._fills: dict[tuple[Descriptor, bool], Fill] = {}
        self._message_encoders: dict[tuple[Descriptor, OptionsKey], Encode] = {}
        self._writers: dict[tuple[Descriptor, OptionsKey], Write] = {}
        #: Types whose codec this thread is building (under _BUILD_LOCK): a
        #: recursive type's fields get a codec resolved on first use instead.
        self._building: set[object] = set()

    def __repr__(self) -> str:
        return f"<grpcgw.protojson.Codecs of {self.pool!r}>"

    def encoder(
        self,
        desc: Descriptor,
        *,
        always_print_fields_with_no_presence: bool = False,
        preserving_proto_field_name: bool = False,
        use_integers_for_enums: bool = False,
    ) -> Encoder:
        """The (cached) :class:`Encoder` of ``desc`` with these MessageToDict options.

        Raises ``ValueError`` if ``desc`` is not a type of this pool."""
        key = (
            desc,
            always_print_fields_with_no_presence,
            preserving_proto_field_name,
            use_integers_for_enums,
        )
        found = self._encoders.get(key)
        if found is None:
            self._own(desc)
            found = self._encoders[key] = Encoder(self, desc, key[1:])
        return found

    def decoder(self, desc: Descriptor, *, ignore_unknown_fields: bool = False) -> Decoder:
        """The (cached) :class:`Decoder` of ``desc``.

        Raises ``ValueError`` if ``desc`` is not a type of this pool."""
        key = (desc, ignore_unknown_fields)
        found = self._decoders.get(key)
        if found is None:
            self._own(desc)
            found = self._decoders[key] = Decoder(
                self, desc, ignore_unknown_fields=ignore_unknown_fields
            )
        return found

    def checker_for(self, ignore_unknown_fields: bool) -> Checker:
        """The reference path's checks for a decoder that ignores unknown fields or not."""
        return self.checker if ignore_unknown_fields else self.strict_checker

    def _own(self, desc: Descriptor) -> None:
        if desc.file.pool is not self.pool:
            raise ValueError(f"{desc.full_name} is not a message type of {self.pool!r}")

    # -- json_format, with this pool ----------------------------------------------

    def parse_dict(self, value: Any, message: Message, ignore: bool, max_depth: int) -> None:
        json_format.ParseDict(
            value,
            message,
            ignore_unknown_fields=ignore,
            descriptor_pool=self.pool,
            max_recursion_depth=max_depth,
        )

    def message_to_dict(self, message: Message, options: OptionsKey) -> Any:
        emit, proto_names, enums_as_ints = options
        return json_format.MessageToDict(
            message,
            always_print_fields_with_no_presence=emit,
            preserving_proto_field_name=proto_names,
            use_integers_for_enums=enums_as_ints,
            descriptor_pool=self.pool,
        )

    # -- building (for the decoder and encoder modules) ---------------------------

    def fill(self, desc: Descriptor, ignore: bool, *, eager: bool = False) -> Fill:
        """How to fill a message of type ``desc``: built now if ``eager`` (unless it
        is being built: a recursive type), else on first use."""
        if has_json_form(desc):
            return special_fill(self, desc, ignore)
        key = (desc, ignore)
        fills = self._fills
        found = fills.get(key)
        if found is None and eager:
            found = self._built(fills, key, lambda: build_fill(self, desc, ignore))
        if found is not None:
            return found

        def fill(value: Any, message: Any, depth: int) -> None:
            (fills.get(key) or self.fill(desc, ignore, eager=True))(value, message, depth)

        return fill

    def message_json(self, desc: Descriptor, options: Options, *, eager: bool = False) -> Value:
        """Converter of a message of type ``desc``: its encoder, built now if
        ``eager`` (unless it is being built: a recursive type), else on first use."""
        name = desc.full_name
        if name == "google.protobuf.Timestamp":
            return timestamp_json
        if name in ("google.protobuf.Duration", "google.protobuf.FieldMask"):
            return lambda message: message.ToJsonString()
        if has_json_form(desc):
            return options.message_to_dict
        key = (desc, options.key())
        encoders = self._message_encoders
        found = encoders.get(key)
        if found is None and eager:
            found = self._built(encoders, key, lambda: build_encoder(self, desc, options))
        if found is not None:
            return found

        def convert(message: Any) -> Any:
            return (encoders.get(key) or self.message_json(desc, options, eager=True))(message)

        return convert

    def message_text(self, desc: Descriptor, options: Options, *, eager: bool = False) -> Write:
        """JSON text of a message of type ``desc``: ``dumps`` of what its converter
        (:meth:`message_json`) makes, written out where that is a generated encoder;
        built now if ``eager`` (unless it is being built: a recursive type), else on
        first use."""
        if desc.full_name in TEXT_FORMS or has_json_form(desc):
            convert = self.message_json(desc, options, eager=eager)
            return lambda message: dumps(convert(message))
        key = (desc, options.key())
        writers = self._writers
        found = writers.get(key)
        if found is None and eager:
            found = self._built(writers, key, lambda: build_writer(self, desc, options))
        if found is not None:
            return found

        def write(message: Any) -> str:
            return (writers.get(key) or self.message_text(desc, options, eager=True))(message)

        return write

    def _built(self, cache: dict[_K, _F], key: _K, build: Callable[[], _F]) -> _F | None:
        """The codec ``cache`` holds for ``key``, built now if it has none yet; ``None``
        while this thread is building it (a recursive type: resolve it on first use)."""
        found = cache.get(key)
        if found is not None:
            return found
        with _BUILD_LOCK:
            found = cache.get(key)
            building = self._building
            if found is None and key not in building:
                building.add(key)
                try:
                    found = cache[key] = build()
                finally:
                    building.discard(key)
            return found


#: The codecs of the default pool (the types of generated ``_pb2`` modules).
DEFAULT: Final = Codecs()
#: The shared codecs of other pools, while something holds them (an encoder or
#: decoder taken from them holds them): a discarded pool's are freed.
_SHARED: weakref.WeakValueDictionary[int, Codecs] = weakref.WeakValueDictionary()
_SHARED_LOCK: Final = threading.Lock()


def codecs_for(pool: DescriptorPool) -> Codecs:
    """The shared :class:`Codecs` of ``pool`` (the default pool's: :data:`DEFAULT`).

    Kept only while something refers to it or to an encoder or decoder taken
    from it, so a pool that is dropped (a reflection reload) takes its codecs
    with it. Hold the instance for as long as the pool is in use."""
    if pool is DEFAULT.pool:
        return DEFAULT
    with _SHARED_LOCK:
        found = _SHARED.get(id(pool))
        if found is None or found.pool is not pool:
            found = _SHARED[id(pool)] = Codecs(pool)
        return found


def encoder(
    desc: Descriptor,
    *,
    always_print_fields_with_no_presence: bool = False,
    preserving_proto_field_name: bool = False,
    use_integers_for_enums: bool = False,
) -> Encoder:
    """The (cached) :class:`Encoder` of ``desc`` with these MessageToDict options,
    from the codecs of ``desc``'s pool."""
    found = DEFAULT._encoders.get(
        (
            desc,
            always_print_fields_with_no_presence,
            preserving_proto_field_name,
            use_integers_for_enums,
        )
    )
    if found is not None:
        return found
    return codecs_for(desc.file.pool).encoder(
        desc,
        always_print_fields_with_no_presence=always_print_fields_with_no_presence,
        preserving_proto_field_name=preserving_proto_field_name,
        use_integers_for_enums=use_integers_for_enums,
    )


def decoder(desc: Descriptor, *, ignore_unknown_fields: bool = False) -> Decoder:
    """The (cached) :class:`Decoder` of ``desc``, from the codecs of ``desc``'s pool."""
    found = DEFAULT._decoders.get((desc, ignore_unknown_fields))
    if found is not None:
        return found
    return codecs_for(desc.file.pool).decoder(desc, ignore_unknown_fields=ignore_unknown_fields)
