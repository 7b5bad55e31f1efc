"""The one raw-pointer intrinsic the kernels share: an integer address viewed as a typed pointer.

Kernels that read Arrow buffers or model tables by address (the single-row ``cfunc`` paths, the
pointer-walking batch kernels) wrap ``typed_ptr(addr, np.float64)`` in ``numba.carray`` or index it
directly. The caller guarantees the address, the element type and the bounds; nothing here checks
them, which is why it lives in one place.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic


@intrinsic
def typed_ptr(typingctx, addr, dtype):
    """``(T*) addr`` for a NumPy scalar class ``dtype`` (e.g. ``np.float32``)."""
    if not isinstance(addr, types.Integer) or not isinstance(dtype, types.NumberClass):
        return None
    ptr_type = types.CPointer(dtype.instance_type)
    sig = ptr_type(addr, dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr_type))

    return sig, codegen
