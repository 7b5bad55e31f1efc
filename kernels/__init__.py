"""mlcore's compiled kernels (installed as the private package ``mlcore._kernels``).

Plain functions over NumPy views of Arrow buffers. They know nothing of ``mlcore``'s API:
callers validate, allocate outputs and wrap results. See ``_jit`` for the compile options and
``mlcore._arrow`` for the buffer contract.
"""
