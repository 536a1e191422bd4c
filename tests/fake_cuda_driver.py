"""A fake `cuda.bindings.driver` for the tests: the launch path runs with no GPU and no libcuda.

Install it with `install(monkeypatch)` (returns the FakeDriver): `runtime._driver_module` then
returns the fake, `device_status` gets a fresh cache and the primary-context holder is new,
and `runtime.pack_params` is wrapped so each launch's argument array can be checked exactly.
It records every call in `fake.calls` (names) and `fake.log` ((name, args)); simulates the
primary context, module load (CUBIN or NUL-terminated PTX), function lookup, allocations backed
by numpy bytes, copies, memset, events (each sample's elapsed time is `event_ms`), streams,
graph capture, and launches: each launch checks grid, block and shared-memory limits and
unpacks the kernel parameter array against the entry's C signature parsed from its .cu source
(argument count, each type's size and kind, pointers into live allocations). It never computes.
Failures: `fail[call] = "CUDA_ERROR_…"` makes that call fail (once per entry in `fail_once`,
else always); `version`, `device_count` and `arch` shape the device.
"""

from __future__ import annotations

import ctypes
import functools
import re
from dataclasses import dataclass, field

import numpy as np
from cuda.bindings import driver as real_driver

from microgpt_tui.kernels import runtime
from microgpt_tui.kernels.catalog import KERNELS

C_TYPES = {"int": np.dtype("i4"), "unsigned": np.dtype("u4"), "float": np.dtype("f4")}
_SIGNATURE = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?'
                        r"(\w+)\s*\(([^)]*)\)")


def c_signatures() -> dict[str, list[tuple[str, np.dtype]]]:
    """Every catalog entry's parameters, from its .cu source: [(name, numpy dtype)]; a pointer of
    any type is ("name", uint64)."""
    found: dict[str, list[tuple[str, np.dtype]]] = {}
    for spec in KERNELS.values():
        source = re.sub(r"//[^\n]*|/\*.*?\*/", "", spec.source_text(), flags=re.S)
        for entry, params in _SIGNATURE.findall(source):
            parsed = []
            for param in params.split(","):
                words = param.replace("__restrict__", " ").replace("const", " ").replace(
                    "*", " * ").split()
                name = words[-1]
                if "*" in words:
                    parsed.append((name, np.dtype("u8")))
                else:
                    kind = "unsigned" if "unsigned" in words else words[0]
                    parsed.append((name, C_TYPES[kind]))
            found[entry] = parsed
    return found


class FakeError(BaseException):
    """The runtime broke a rule the real driver enforces (or would crash on). A BaseException,
    so the runtime's `except Exception` around driver calls cannot turn it into a KernelError."""


@dataclass
class FakeDriver:
    version: int = 13000
    device_count: int = 1
    arch: int = 90
    name: str = "Fake H200"
    sm_count: int = 132
    total_memory: int = 8 * 2**30
    event_ms: float = 1.0
    fail: dict[str, str] = field(default_factory=dict)
    fail_once: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    log: list[tuple[str, tuple]] = field(default_factory=list)
    memory: dict[int, np.ndarray] = field(default_factory=dict)
    modules: dict[int, dict] = field(default_factory=dict)
    functions: dict[int, str] = field(default_factory=dict)
    launches: list[dict] = field(default_factory=list)
    retained: int = 0
    resets: int = 0
    capturing: list[dict] = field(default_factory=list)
    packed: dict[int, list[np.ndarray]] = field(default_factory=dict)
    signatures: dict = field(default_factory=c_signatures)
    next_handle: int = 0x1000

    CUresult = real_driver.CUresult
    CUdevice_attribute = real_driver.CUdevice_attribute
    CUfunction_attribute = real_driver.CUfunction_attribute
    CUstreamCaptureMode = real_driver.CUstreamCaptureMode
    CUstream_flags = real_driver.CUstream_flags

    # -- plumbing
    def _handle(self) -> int:
        self.next_handle += 0x1000
        return self.next_handle

    def _enter(self, name: str, *args):
        self.calls.append(name)
        self.log.append((name, args))
        if name in self.fail:
            error = getattr(self.CUresult, self.fail[name])
            if name in self.fail_once:
                del self.fail[name]
            return error
        return self.CUresult.CUDA_SUCCESS

    def count(self, name: str) -> int:
        return self.calls.count(name)

    def cuGetErrorName(self, result):
        return self.CUresult.CUDA_SUCCESS, result.name.encode()

    # -- device
    def cuDriverGetVersion(self):
        return self._enter("cuDriverGetVersion"), self.version

    def cuInit(self, flags):
        return (self._enter("cuInit", flags),)

    def cuDeviceGetCount(self):
        return self._enter("cuDeviceGetCount"), self.device_count

    def cuDeviceGet(self, ordinal):
        if not 0 <= ordinal < self.device_count:
            return self.CUresult.CUDA_ERROR_INVALID_DEVICE, None
        return self._enter("cuDeviceGet", ordinal), ordinal

    def cuDeviceGetName(self, length, device):
        return self._enter("cuDeviceGetName"), self.name.encode().ljust(length, b"\0")

    def cuDeviceGetAttribute(self, attribute, device):
        a = self.CUdevice_attribute
        values = {
            a.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: self.arch // 10,
            a.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: self.arch % 10,
            a.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: self.sm_count,
            a.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: 48 * 1024,
            a.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: 227 * 1024,
            a.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: 228 * 1024,
            a.CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: 1024,
            a.CU_DEVICE_ATTRIBUTE_CLOCK_RATE: 1_980_000,
        }
        return self._enter("cuDeviceGetAttribute", attribute), values[attribute]

    def cuDevicePrimaryCtxRetain(self, device):
        self.retained += 1
        return self._enter("cuDevicePrimaryCtxRetain", device), "primary-context"

    def cuDevicePrimaryCtxRelease(self, device):
        self.retained -= 1
        return (self._enter("cuDevicePrimaryCtxRelease", device),)

    def cuDevicePrimaryCtxReset(self, device):
        self.resets += 1
        return (self._enter("cuDevicePrimaryCtxReset", device),)

    def cuCtxSetCurrent(self, context):
        if context != "primary-context":
            raise FakeError(f"cuCtxSetCurrent({context!r}): not a retained context")
        return (self._enter("cuCtxSetCurrent"),)

    def _need_context(self, name):
        if self.retained <= 0:
            raise FakeError(f"{name} with no current context")

    def cuCtxSynchronize(self):
        return (self._enter("cuCtxSynchronize"),)

    # -- memory
    def cuMemGetInfo(self):
        used = sum(m.nbytes for m in self.memory.values())
        return self._enter("cuMemGetInfo"), self.total_memory - used, self.total_memory

    def cuMemAlloc(self, nbytes):
        self._need_context("cuMemAlloc")
        if not isinstance(nbytes, int) or nbytes <= 0:
            raise TypeError(f"cuMemAlloc({nbytes!r})")
        result = self._enter("cuMemAlloc", nbytes)
        if result != self.CUresult.CUDA_SUCCESS:
            return result, None
        pointer = self._handle() << 20
        self.memory[pointer] = np.zeros(nbytes, np.uint8)
        return result, pointer

    def cuMemFree(self, pointer):
        if int(pointer) not in self.memory:
            raise FakeError(f"cuMemFree({pointer:#x}): not allocated (double free?)")
        del self.memory[int(pointer)]
        return (self._enter("cuMemFree", pointer),)

    def _span(self, pointer, nbytes) -> np.ndarray:
        for base, array in self.memory.items():
            if base <= int(pointer) and int(pointer) + nbytes <= base + array.nbytes:
                offset = int(pointer) - base
                return array[offset:offset + nbytes]
        raise FakeError(f"{nbytes} bytes at {int(pointer):#x} are not inside an allocation")

    def cuMemcpyHtoD(self, pointer, host, nbytes):
        self._span(pointer, nbytes)[:] = np.frombuffer(ctypes.string_at(host, nbytes), np.uint8)
        return (self._enter("cuMemcpyHtoD", pointer, nbytes),)

    def cuMemcpyDtoH(self, host, pointer, nbytes):
        ctypes.memmove(host, self._span(pointer, nbytes).ctypes.data, nbytes)
        return (self._enter("cuMemcpyDtoH", pointer, nbytes),)

    def cuMemsetD8(self, pointer, value, nbytes):
        self._span(pointer, nbytes)[:] = value
        return (self._enter("cuMemsetD8", pointer, value, nbytes),)

    # -- modules
    def cuModuleLoadData(self, image):
        self._need_context("cuModuleLoadData")
        image = bytes(image)
        if not (image[:4] == b"\x7fELF" or (image.endswith(b"\0") and b".version" in image)):
            raise FakeError("cuModuleLoadData: neither a CUBIN (ELF) nor NUL-terminated PTX")
        result = self._enter("cuModuleLoadData", image[:4])
        handle = self._handle()
        self.modules[handle] = {"cubin": image[:4] == b"\x7fELF", "functions": []}
        return result, handle

    def cuModuleUnload(self, module):
        if module not in self.modules:
            raise FakeError(f"cuModuleUnload({module!r}): not loaded")
        del self.modules[module]
        return (self._enter("cuModuleUnload", module),)

    def cuModuleGetFunction(self, module, name):
        if module not in self.modules:
            raise FakeError("cuModuleGetFunction on an unloaded module")
        entry = name.decode()
        if entry not in self.signatures:
            return self.CUresult.CUDA_ERROR_NOT_FOUND, None
        handle = self._handle()
        self.functions[handle] = entry
        self.modules[module]["functions"].append(handle)
        return self._enter("cuModuleGetFunction", entry), handle

    def cuFuncSetAttribute(self, function, attribute, value):
        if attribute != self.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
            raise FakeError(f"unexpected function attribute {attribute}")
        if value > 227 * 1024:
            return (self.CUresult.CUDA_ERROR_INVALID_VALUE,)
        self.dynamic_limit = getattr(self, "dynamic_limit", {})
        self.dynamic_limit[function] = value
        return (self._enter("cuFuncSetAttribute", self.functions[function], value),)

    # -- launches
    def cuLaunchKernel(self, function, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        entry = self.functions.get(function)
        if entry is None:
            raise FakeError("cuLaunchKernel of a function from no loaded module")
        if not any(function in m["functions"] for m in self.modules.values()):
            raise FakeError(f"{entry}: its module was unloaded")
        if extra not in (0, None):
            raise FakeError("extra must be 0")
        if bx * by * bz > 1024 or min(gx, gy, gz, bx, by, bz) < 1 or gy > 65535 or gz > 65535:
            raise FakeError(f"{entry}: grid {(gx, gy, gz)} block {(bx, by, bz)} out of limits")
        allowed = getattr(self, "dynamic_limit", {}).get(function, 48 * 1024)
        if shared > allowed:
            raise FakeError(f"{entry}: {shared} B dynamic shared memory; opted in to {allowed}")
        args = self._unpack(entry, params)
        result = self._enter("cuLaunchKernel", entry)
        launch = {"entry": entry, "grid": (gx, gy, gz), "block": (bx, by, bz), "shared": shared,
                  "args": args, "stream": stream}
        if self.capturing and stream == self.capturing[-1]["stream"]:
            self.capturing[-1]["launches"].append(launch)
        else:
            self.launches.append(launch)
        return (result,)

    def _unpack(self, entry: str, params: int) -> dict:
        signature = self.signatures[entry]
        holders = self.packed.get(int(params))
        if holders is None:
            raise FakeError(f"{entry}: kernelParams {params!r} is not an array from pack_params")
        if len(holders) != len(signature):
            raise FakeError(f"{entry}: {len(holders)} arguments; its C signature has "
                            f"{len(signature)}: {[n for n, _ in signature]}")
        pointers = (ctypes.c_void_p * len(signature)).from_address(int(params))
        values = {}
        for index, ((name, dtype), holder) in enumerate(zip(signature, holders, strict=True)):
            if int(pointers[index] or 0) != holder.ctypes.data:
                raise FakeError(f"{entry}: parameter {index} does not point at its value")
            if holder.dtype != dtype:
                raise FakeError(f"{entry}: argument {name} packed as {holder.dtype}, C type is "
                                f"{dtype}")
            value = np.frombuffer(ctypes.string_at(holder.ctypes.data, dtype.itemsize), dtype)[0]
            if dtype == np.dtype("u8") and int(value) != 0:
                self._span(int(value), 1)  # a pointer into a live allocation
            elif dtype == np.dtype("u8") and "trace" not in name:
                raise FakeError(f"{entry}: pointer {name} is null")
            values[name] = value.item()
        return values

    # -- events, streams, graphs
    def cuEventCreate(self, flags):
        return self._enter("cuEventCreate"), ("event", self._handle())

    def cuEventDestroy(self, event):
        return (self._enter("cuEventDestroy"),)

    def cuEventRecord(self, event, stream):
        return (self._enter("cuEventRecord", stream),)

    def cuEventSynchronize(self, event):
        return (self._enter("cuEventSynchronize"),)

    def cuEventElapsedTime(self, start, stop):
        return self._enter("cuEventElapsedTime"), self.event_ms

    def cuStreamCreate(self, flags):
        return self._enter("cuStreamCreate", flags), ("stream", self._handle())

    def cuStreamDestroy(self, stream):
        return (self._enter("cuStreamDestroy"),)

    def cuStreamBeginCapture(self, stream, mode):
        if stream == 0:
            raise FakeError("the legacy stream cannot be captured")
        self.capturing.append({"stream": stream, "launches": []})
        return (self._enter("cuStreamBeginCapture"),)

    def cuStreamEndCapture(self, stream):
        capture = self.capturing.pop()
        return self._enter("cuStreamEndCapture"), ("graph", len(capture["launches"]))

    def cuGraphInstantiate(self, graph, flags):
        return self._enter("cuGraphInstantiate"), ("exec", graph[1])

    def cuGraphLaunch(self, executable, stream):
        return (self._enter("cuGraphLaunch", executable),)

    def cuGraphExecDestroy(self, executable):
        return (self._enter("cuGraphExecDestroy"),)

    def cuGraphDestroy(self, graph):
        return (self._enter("cuGraphDestroy"),)


def install(monkeypatch, fake: FakeDriver | None = None) -> FakeDriver:
    """Make the runtime use `fake` (a new FakeDriver by default) for the rest of the test."""
    fake = fake or FakeDriver()
    monkeypatch.setattr(runtime, "_driver_module", lambda: fake)
    monkeypatch.setattr(runtime, "_PRIMARY", runtime._PrimaryContext())
    real_pack = runtime.pack_params

    def pack_params(args):
        pointers, holders = real_pack(args)
        fake.packed[pointers.ctypes.data] = holders
        return pointers, holders

    monkeypatch.setattr(runtime, "pack_params", pack_params)
    # A fresh probe cache for this test; the real one is back (untouched) when the test ends.
    probe = functools.cache(runtime.device_status.__wrapped__)
    monkeypatch.setattr(runtime, "device_status", probe)
    return fake
