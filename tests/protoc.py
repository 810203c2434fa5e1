"""Build ``FileDescriptorSet`` files with grpcio-tools' protoc, as a user would for a proxy
or for comments in the OpenAPI document (``--include_imports --include_source_info``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool

ROOT = Path(__file__).resolve().parent.parent


def _include_dirs() -> list[str]:
    import google.api

    wkt = resources.files("grpc_tools") / "_proto"
    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    return [str(wkt), str(googleapis)]


def openapiv2_descriptor_set(out: Path) -> Path:
    """The grpc-gateway ``protoc-gen-openapiv2/options`` files, taken from the
    ``grpc-gateway-protoc-openapiv2`` package's generated modules (it ships no
    ``.proto`` sources), as a descriptor set protoc can import from."""
    from protoc_gen_openapiv2.options import annotations_pb2, openapiv2_pb2

    files = descriptor_pb2.FileDescriptorSet()
    for module in (openapiv2_pb2, annotations_pb2):
        files.file.add().MergeFromString(module.DESCRIPTOR.serialized_pb)
    out.write_bytes(files.SerializeToString())
    return out


def descriptor_set(
    proto_root: Path, protos: list[str], out: Path, *, with_openapiv2: bool = False
) -> descriptor_pb2.FileDescriptorSet:
    """Compile ``protos`` (relative to ``proto_root``) into ``out`` and return the set."""
    from grpc_tools import protoc

    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        *(f"-I{d}" for d in _include_dirs()),
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out}",
    ]
    if with_openapiv2:
        args.append(f"--descriptor_set_in={openapiv2_descriptor_set(out.with_suffix('.in.pb'))}")
    if protoc.main([*args, *protos]) != 0:
        raise RuntimeError(f"protoc failed for {protos}")
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def pool_of(files: descriptor_pb2.FileDescriptorSet) -> descriptor_pool.DescriptorPool:
    """A descriptor pool of its own holding ``files`` (imports first, as protoc orders them)."""
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool
