/* mlcore_internal.h: the row ABI descriptor, shared by libmlcore and its benchmarks.
 *
 * Not a public interface: it changes with the library. Public users include mlcore.h only.
 * mlcore.capi (Python) fills an mlc_desc at load (its layout is mirrored in the cffi cdef there).
 */
#ifndef MLCORE_INTERNAL_H
#define MLCORE_INTERNAL_H

#include <stdint.h>

#include "mlcore.h"

#define MLC_TABLE_WORDS 64
#define MLC_MAX_WS 8

/* Row ABI kinds: how the fast path calls a model family's compiled row function. */
#define MLC_ROW_NONE 0
#define MLC_ROW_LINEAR 1 /* double f(const double *packed, int64 p, int64 k, const double *x,
                            int64 op, double *out, double *scratch); NaN = non-finite score */
#define MLC_ROW_TABLE 2  /* int64 f(const double *x, int64 *table, double *out); the table holds
                            model addresses and per-thread workspace addresses; returns 0, or
                            1 + the index of an input whose value the model refuses */

/* Post-processing of the raw kernel output (for kernels that return raw scores), as the model
 * family's Python code does it (post_param: the sigmoid scale, or the divisor). */
#define MLC_POST_NONE 0
#define MLC_POST_SIGMOID2 1 /* 1 raw score -> t = sigmoid(param * x); [1 - t, t] */
#define MLC_POST_SOFTMAX 2  /* k raw scores -> softmax */
#define MLC_POST_SIGMOID 3  /* k raw scores -> sigmoid(param * x) each */
#define MLC_POST_EXP 4      /* exp(x) each */
#define MLC_POST_DIVIDE 5   /* x / param each (averaging ensembles) */
#define MLC_POST_DIVIDE2 6  /* 1 raw score -> t = x / param; [1 - t, t] */
#define MLC_POST_OVA 7      /* sigmoid(param * x) each, then divided by their sum */

typedef struct {
  int64_t n_inputs;
  int64_t width;       /* doubles written per row */
  int64_t row_kind;    /* MLC_ROW_* */
  int64_t fn;          /* address of the compiled row function */
  int64_t lin[4];      /* LINEAR: packed address, p, k, op */
  int64_t scratch;     /* LINEAR: doubles of scratch per thread */
  int64_t table_words; /* TABLE: words in the table template */
  int64_t table[MLC_TABLE_WORDS];
  int64_t n_ws;        /* TABLE: per-thread workspaces patched into the table */
  int64_t ws_word[MLC_MAX_WS];
  int64_t ws_bytes[MLC_MAX_WS];
  int64_t check;       /* bit 0: reject NaN inputs, bit 1: reject infinite inputs */
  int64_t post;        /* MLC_POST_* */
  int64_t raw_width;   /* doubles the kernel writes before post-processing */
  double post_param;
  char method[32];
  char no_fast_reason[256];
} mlc_desc;

#ifdef __cplusplus
extern "C" {
#endif
/* The descriptor of a live handle (NULL otherwise), for benchmarks that call the kernel
 * directly to measure the fast path's overhead. */
const mlc_desc *mlcore__row_desc(mlcore_model model);
#ifdef __cplusplus
}
#endif
#endif /* MLCORE_INTERNAL_H */
