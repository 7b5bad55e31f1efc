/* mlcore.h: the C interface of libmlcore (an embedded mlcore; see bindings/README.md).
 *
 * Every function returns an int status: MLCORE_OK (0) or a non-zero MLCORE_E_* code, and sets a
 * thread-local message readable with mlcore_last_error(). Nothing here aborts or crashes on bad
 * arguments: NULL pointers, wrong sizes, stale or freed handles and calls before mlcore_init()
 * are all reported as errors.
 *
 * Threads: every function may be called from any thread. mlcore_predict_row_fast() runs the
 * compiled model directly (no Python, no GIL, per-thread workspaces) and scales across threads;
 * mlcore_load/mlcore_predict/mlcore_predict_arrow/mlcore_free run Python under its GIL.
 * Freeing a handle while another thread is still inside a call on that same handle is a caller
 * error (as with free()); a call that starts after mlcore_free() returns an error.
 */
#ifndef MLCORE_H
#define MLCORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLCORE_OK 0
#define MLCORE_E_NOT_INITIALIZED 1 /* mlcore_init() not called (or mlcore_shutdown() since) */
#define MLCORE_E_INIT_FAILED 2     /* the embedded Python or mlcore could not start */
#define MLCORE_E_NULL_POINTER 3    /* a required pointer argument is NULL */
#define MLCORE_E_BAD_HANDLE 4      /* unknown, freed (stale) or already freed handle */
#define MLCORE_E_SHAPE 5           /* wrong column count, negative row count, output too small */
#define MLCORE_E_LOAD 6            /* the bundle is missing, unreadable or fails verification */
#define MLCORE_E_INPUT 7           /* bad values: non-finite where the model needs finite, ... */
#define MLCORE_E_PREDICT 8         /* prediction failed in Python (message says why) */
#define MLCORE_E_NO_FAST_PATH 9    /* this bundle has no compiled single-row path */
#define MLCORE_E_NO_MEMORY 10
#define MLCORE_E_TOO_MANY 11       /* too many bundles loaded at once */

/* A loaded bundle. 0 is never a valid handle. A handle encodes a slot and a generation, so a
 * freed handle is recognised as such (and not confused with a later load) without touching
 * freed memory. */
typedef uint64_t mlcore_model;

/* Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};
struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};
#endif

/* The message of the last failed call on this thread ("" when none). Valid until the next
 * mlcore call on the same thread. Never NULL. */
const char *mlcore_last_error(void);

/* Start the embedded Python and import mlcore (about 0.5-2 s; call it once at service start,
 * never inside a request). Idempotent and thread-safe. A failure is sticky: the embedded
 * interpreter cannot be restarted in the same process. */
int mlcore_init(void);

/* Free every loaded bundle; later calls (but mlcore_init) return MLCORE_E_NOT_INITIALIZED.
 * The interpreter itself stays loaded until the process exits (it cannot be restarted). */
int mlcore_shutdown(void);

/* Load and verify (content hash) the bundle folder at `path`. */
int mlcore_load(const char *path, mlcore_model *out_model);

/* The number of input columns, and the name of column i (owned by the handle, valid until
 * mlcore_free). */
int mlcore_n_inputs(mlcore_model model, int64_t *out_n);
int mlcore_input_name(mlcore_model model, int64_t i, const char **out_name);

/* Doubles written per row, and which method they come from: "predict_proba" (classifiers with
 * probabilities: one column per class), "predict" (regressors) or "decision_function"
 * (classifiers without probabilities). The name is owned by the handle. */
int mlcore_output_width(mlcore_model model, int64_t *out_width);
int mlcore_output_method(mlcore_model model, const char **out_name);

/* Predict n_rows rows of a row-major matrix (n_rows x n_cols doubles, n_cols = n_inputs, in
 * input-column order; NaN = missing). Writes n_rows * width doubles to out (out_len >= that). */
int mlcore_predict(mlcore_model model, const double *rows, int64_t n_rows, int64_t n_cols,
                   double *out, int64_t out_len);

/* Predict from Arrow C Data Interface structs describing a struct array (one child per column,
 * matched by name; extra columns are ignored). Zero-copy: the model reads the Arrow buffers in
 * place. mlcore takes ownership of both structs (moves them) and releases them, whatever the
 * status, when they are non-NULL and not already released. */
int mlcore_predict_arrow(mlcore_model model, struct ArrowArray *array, struct ArrowSchema *schema,
                         double *out, int64_t out_len);

/* One row (n_inputs doubles) -> width doubles, through the compiled kernel called directly from
 * C: no Python, no GIL, no allocation after a thread's first call on a model. Safe from many
 * threads at once. MLCORE_E_NO_FAST_PATH when the bundle needs Python per row (a feature plan,
 * or a model family without a compiled row function); use mlcore_predict with n_rows = 1. */
int mlcore_predict_row_fast(mlcore_model model, const double *row, double *out);

/* Whether mlcore_predict_row_fast works for this bundle (1) or not (0). */
int mlcore_has_fast_path(mlcore_model model, int *out_flag);

/* Release the bundle. A second free, or any call with the freed handle, is MLCORE_E_BAD_HANDLE. */
int mlcore_free(mlcore_model model);

#ifdef __cplusplus
}
#endif
#endif /* MLCORE_H */
