/* libmlcore: the C side of the embedded mlcore (compiled by mlcore/capi.py through cffi).
 *
 * This file is #included into the cffi-generated module. The Python side (callbacks named
 * _mlcore_py_*) loads bundles and runs batch predictions under the GIL; everything else is C:
 * argument checks, handles (slot + generation), the thread-local error message, and the fast
 * path, which calls a model's compiled row function directly through a "row ABI" descriptor
 * (mlc_desc) filled once at load.
 *
 * Why the conventions: a failed embedded-Python start makes every Python callback return 0
 * (cffi prints the traceback and zero-fills the result), so the callbacks return MLC_PY_OK, a
 * magic non-zero value, for success and 0 can never be mistaken for it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

#define MLC_PY_OK 0x4D4C4F4B /* "MLOK": any other value (0 included) is a failure */
#define MLC_MAX_SLOTS 1024
#define MLC_ERR_LEN 1024

#include "mlcore_internal.h"

/* Python callbacks (extern "Python" in the cdef; defined in the embedded init code). */
static int _mlcore_py_load(const char *path, int64_t slot, mlc_desc *desc, char *err, int64_t errlen);
static int _mlcore_py_names(int64_t slot, char *buf, int64_t buflen, int64_t *needed, char *err,
                            int64_t errlen);
static int _mlcore_py_predict(int64_t slot, const double *rows, int64_t n_rows, int64_t n_cols,
                              double *out, char *err, int64_t errlen);
static int _mlcore_py_predict_arrow(int64_t slot, void *array, void *schema, double *out,
                                    int64_t out_len, int64_t *n_rows, char *err, int64_t errlen);
static int _mlcore_py_free(int64_t slot, char *err, int64_t errlen);

/* ---- errors ------------------------------------------------------------------------------ */

static __thread char t_err[MLC_ERR_LEN];

static int fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t_err, sizeof t_err, fmt, ap);
  va_end(ap);
  return code;
}

static int ok(void) {
  t_err[0] = '\0';
  return MLCORE_OK;
}

const char *mlcore_last_error(void) { return t_err; }

/* A Python callback's result: MLC_PY_OK, a MLCORE_E_* code with a message in buf, or 0 when
 * Python could not run the callback at all. */
static int from_py(int r, const char *buf, const char *what) {
  if (r == MLC_PY_OK) return ok();
  if (r > 0 && r <= MLCORE_E_TOO_MANY) return fail(r, "%s", buf[0] ? buf : what);
  return fail(MLCORE_E_PREDICT, "%s: the embedded Python failed (traceback on stderr)", what);
}

/* ---- state and handles --------------------------------------------------------------------- */

typedef struct {
  uint32_t gen;  /* current generation; a handle is valid when its generation equals this */
  int live;      /* guarded by g_lock */
  int fast;      /* desc describes a usable fast path */
  mlc_desc desc; /* never freed (static storage): a stale reader cannot fault on it */
  char *names;   /* NUL-separated input names */
  const char **name_ptr;
} mlc_slot;

static mlc_slot g_slots[MLC_MAX_SLOTS];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_state = 0; /* 0 never started, 1 running, 2 shut down, -1 start failed */
static char g_init_err[MLC_ERR_LEN];

static int check_state(void) {
  int s = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);
  if (s == 1) return MLCORE_OK;
  if (s == -1) return fail(MLCORE_E_INIT_FAILED, "mlcore_init failed earlier: %s", g_init_err);
  if (s == 2) return fail(MLCORE_E_NOT_INITIALIZED, "mlcore_shutdown was called; call mlcore_init first");
  return fail(MLCORE_E_NOT_INITIALIZED, "call mlcore_init() before any other mlcore function");
}

static mlcore_model make_handle(int64_t slot, uint32_t gen) {
  return ((uint64_t)gen << 32) | (uint64_t)(slot + 1);
}

/* The slot of a live handle, or -1 with the error set. Reads only static memory. */
static int64_t slot_of(mlcore_model h) {
  uint64_t idx = h & 0xffffffffu;
  uint32_t gen = (uint32_t)(h >> 32);
  if (h == 0) return fail(MLCORE_E_BAD_HANDLE, "handle is 0 (not loaded, or the load failed)"), -1;
  if (idx == 0 || idx > MLC_MAX_SLOTS || gen == 0) /* issued handles have a generation >= 1 */
    return fail(MLCORE_E_BAD_HANDLE, "handle 0x%llx is not an mlcore handle", (unsigned long long)h), -1;
  if (__atomic_load_n(&g_slots[idx - 1].gen, __ATOMIC_ACQUIRE) != gen ||
      !__atomic_load_n(&g_slots[idx - 1].live, __ATOMIC_ACQUIRE))
    return fail(MLCORE_E_BAD_HANDLE, "handle 0x%llx is stale (freed, freed twice, or never issued)", (unsigned long long)h), -1;
  return (int64_t)idx - 1;
}

/* ---- init / shutdown --------------------------------------------------------------------- */

int _mlcore_py_boot(char *err, int64_t errlen); /* in embedding_api: its first call starts Python */

static void promote_libpython(void) {
  /* Extension modules (numpy, _cffi_backend, ...) resolve Py* symbols globally. If the host
   * opened libmlcore with RTLD_LOCAL, libpython is loaded but not global: promote it. */
  Dl_info info;
  void *sym = dlsym(RTLD_DEFAULT, "Py_IsInitialized");
  if (sym == NULL) sym = dlsym(RTLD_NEXT, "Py_IsInitialized");
  if (sym != NULL && dladdr(sym, &info) && info.dli_fname != NULL)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

#ifndef MLC_SITEDIRS
#define MLC_SITEDIRS ""
#endif

int Py_IsInitialized(void);

/* The embedded interpreter starts with the base Python's sys.path, and cffi imports its
 * _cffi_backend before our init code can add the virtual environment: a base-Python cffi of
 * another version then breaks the start. So the site directories baked in at build time (and
 * MLCORE_CAPI_SITEDIRS) go on PYTHONPATH just while the interpreter starts. */
static char *push_pythonpath(void) {
  const char *old = getenv("PYTHONPATH");
  const char *extra = getenv("MLCORE_CAPI_SITEDIRS");
  char *saved = old ? strdup(old) : NULL;
  size_t n = strlen(MLC_SITEDIRS) + (extra ? strlen(extra) : 0) + (old ? strlen(old) : 0) + 3;
  char *value = (char *)malloc(n);
  if (value == NULL) return saved;
  snprintf(value, n, "%s%s%s%s%s", extra ? extra : "", extra && extra[0] ? ":" : "", MLC_SITEDIRS,
           old && old[0] ? ":" : "", old ? old : "");
  setenv("PYTHONPATH", value, 1);
  free(value);
  return saved;
}

static void pop_pythonpath(char *saved) {
  if (saved) {
    setenv("PYTHONPATH", saved, 1);
    free(saved);
  } else {
    unsetenv("PYTHONPATH");
  }
}

int mlcore_init(void) {
  int r;
  pthread_mutex_lock(&g_lock);
  if (g_state == 1) {
    pthread_mutex_unlock(&g_lock);
    return ok();
  }
  if (g_state == -1) {
    pthread_mutex_unlock(&g_lock);
    return fail(MLCORE_E_INIT_FAILED, "mlcore_init failed earlier: %s", g_init_err);
  }
  if (g_state == 0) {
    char err[MLC_ERR_LEN] = "";
    promote_libpython();
    int started = Py_IsInitialized();
    char *saved = started ? NULL : push_pythonpath();
    r = _mlcore_py_boot(err, sizeof err);
    if (!started) pop_pythonpath(saved);
    if (r != MLC_PY_OK) {
      snprintf(g_init_err, sizeof g_init_err, "%s",
               err[0] ? err : "the embedded Python did not start (traceback on stderr)");
      __atomic_store_n(&g_state, -1, __ATOMIC_RELEASE);
      pthread_mutex_unlock(&g_lock);
      return fail(MLCORE_E_INIT_FAILED, "mlcore_init: %s", g_init_err);
    }
  }
  __atomic_store_n(&g_state, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&g_lock);
  return ok();
}

static void release_slot_locked(int64_t s) {
  mlc_slot *sl = &g_slots[s];
  char err[MLC_ERR_LEN] = "";
  /* Bump the generation first: from here on every call with the old handle is refused. */
  __atomic_store_n(&sl->gen, sl->gen + 1 == 0 ? 1 : sl->gen + 1, __ATOMIC_RELEASE);
  __atomic_store_n(&sl->live, 0, __ATOMIC_RELEASE);
  sl->fast = 0;
  _mlcore_py_free(s, err, sizeof err);
  free(sl->names);
  free((void *)sl->name_ptr);
  sl->names = NULL;
  sl->name_ptr = NULL;
}

int mlcore_shutdown(void) {
  int r = check_state();
  if (r) return r;
  pthread_mutex_lock(&g_lock);
  for (int64_t s = 0; s < MLC_MAX_SLOTS; s++)
    if (g_slots[s].live) release_slot_locked(s);
  __atomic_store_n(&g_state, 2, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&g_lock);
  return ok();
}

/* ---- load / query / free ----------------------------------------------------------------- */

int mlcore_load(const char *path, mlcore_model *out_model) {
  int r = check_state();
  if (r) return r;
  if (out_model == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_load: out_model is NULL");
  *out_model = 0;
  if (path == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_load: path is NULL");
  pthread_mutex_lock(&g_lock);
  int64_t s = -1;
  for (int64_t i = 0; i < MLC_MAX_SLOTS; i++)
    if (!g_slots[i].live) {
      s = i;
      break;
    }
  if (s < 0) {
    pthread_mutex_unlock(&g_lock);
    return fail(MLCORE_E_TOO_MANY, "mlcore_load: %d bundles are loaded; free one first", MLC_MAX_SLOTS);
  }
  mlc_slot *sl = &g_slots[s];
  char err[MLC_ERR_LEN] = "";
  mlc_desc desc;
  memset(&desc, 0, sizeof desc);
  r = from_py(_mlcore_py_load(path, s, &desc, err, sizeof err), err, "mlcore_load");
  if (r) {
    pthread_mutex_unlock(&g_lock);
    return r;
  }
  /* Input names, NUL-separated, copied into C memory owned by the slot. */
  int64_t needed = 0;
  r = from_py(_mlcore_py_names(s, NULL, 0, &needed, err, sizeof err), err, "mlcore_load");
  char *names = r ? NULL : (char *)malloc((size_t)(needed > 0 ? needed : 1));
  const char **ptrs = r ? NULL : (const char **)calloc((size_t)(desc.n_inputs + 1), sizeof(char *));
  if (!r && (names == NULL || ptrs == NULL)) r = fail(MLCORE_E_NO_MEMORY, "mlcore_load: out of memory");
  if (!r) r = from_py(_mlcore_py_names(s, names, needed, &needed, err, sizeof err), err, "mlcore_load");
  if (r) {
    free(names);
    free((void *)ptrs);
    _mlcore_py_free(s, err, sizeof err);
    pthread_mutex_unlock(&g_lock);
    return r;
  }
  for (int64_t i = 0, off = 0; i < desc.n_inputs; i++) {
    ptrs[i] = names + off;
    off += (int64_t)strlen(names + off) + 1;
  }
  sl->desc = desc;
  sl->names = names;
  sl->name_ptr = ptrs;
  sl->fast = desc.row_kind != MLC_ROW_NONE && desc.fn != 0;
  __atomic_store_n(&sl->live, 1, __ATOMIC_RELEASE);
  if (sl->gen == 0) sl->gen = 1;
  /* Publish: the descriptor is written before the generation a reader compares against. */
  __atomic_store_n(&sl->gen, sl->gen, __ATOMIC_RELEASE);
  *out_model = make_handle(s, sl->gen);
  pthread_mutex_unlock(&g_lock);
  return ok();
}

int mlcore_free(mlcore_model model) {
  int r = check_state();
  if (r) return r;
  pthread_mutex_lock(&g_lock);
  int64_t s = slot_of(model);
  if (s < 0 || !g_slots[s].live) {
    pthread_mutex_unlock(&g_lock);
    if (s >= 0) return fail(MLCORE_E_BAD_HANDLE, "mlcore_free: handle was already freed");
    return MLCORE_E_BAD_HANDLE;
  }
  release_slot_locked(s);
  pthread_mutex_unlock(&g_lock);
  return ok();
}

int mlcore_n_inputs(mlcore_model model, int64_t *out_n) {
  int r = check_state();
  if (r) return r;
  if (out_n == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_n_inputs: out_n is NULL");
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  *out_n = g_slots[s].desc.n_inputs;
  return ok();
}

int mlcore_input_name(mlcore_model model, int64_t i, const char **out_name) {
  int r = check_state();
  if (r) return r;
  if (out_name == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_input_name: out_name is NULL");
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  if (i < 0 || i >= g_slots[s].desc.n_inputs)
    return fail(MLCORE_E_SHAPE, "mlcore_input_name: column index %lld out of range [0, %lld)",
                (long long)i, (long long)g_slots[s].desc.n_inputs);
  *out_name = g_slots[s].name_ptr[i];
  return ok();
}

int mlcore_output_width(mlcore_model model, int64_t *out_width) {
  int r = check_state();
  if (r) return r;
  if (out_width == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_output_width: out_width is NULL");
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  *out_width = g_slots[s].desc.width;
  return ok();
}

int mlcore_output_method(mlcore_model model, const char **out_name) {
  int r = check_state();
  if (r) return r;
  if (out_name == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_output_method: out_name is NULL");
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  *out_name = g_slots[s].desc.method;
  return ok();
}

int mlcore_has_fast_path(mlcore_model model, int *out_flag) {
  int r = check_state();
  if (r) return r;
  if (out_flag == NULL) return fail(MLCORE_E_NULL_POINTER, "mlcore_has_fast_path: out_flag is NULL");
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  *out_flag = g_slots[s].fast;
  return ok();
}

/* ---- batch prediction (Python) ----------------------------------------------------------- */

int mlcore_predict(mlcore_model model, const double *rows, int64_t n_rows, int64_t n_cols, double *out,
                   int64_t out_len) {
  int r = check_state();
  if (r) return r;
  int64_t s = slot_of(model);
  if (s < 0) return MLCORE_E_BAD_HANDLE;
  const mlc_desc *d = &g_slots[s].desc;
  if (n_rows < 0) return fail(MLCORE_E_SHAPE, "mlcore_predict: n_rows is %lld; expected >= 0", (long long)n_rows);
  if (n_cols != d->n_inputs)
    return fail(MLCORE_E_SHAPE, "mlcore_predict: n_cols is %lld; the bundle expects %lld input columns",
                (long long)n_cols, (long long)d->n_inputs);
  if (n_rows > 0 && (rows == NULL || out == NULL))
    return fail(MLCORE_E_NULL_POINTER, "mlcore_predict: %s is NULL", rows == NULL ? "rows" : "out");
  if (d->width > 0 && n_rows > INT64_MAX / d->width)
    return fail(MLCORE_E_SHAPE, "mlcore_predict: n_rows %lld is too large", (long long)n_rows);
  if (out_len < n_rows * d->width)
    return fail(MLCORE_E_SHAPE, "mlcore_predict: out_len is %lld; %lld rows x %lld outputs need %lld",
                (long long)out_len, (long long)n_rows, (long long)d->width, (long long)(n_rows * d->width));
  if (n_rows == 0) return ok();
  char err[MLC_ERR_LEN] = "";
  return from_py(_mlcore_py_predict(s, rows, n_rows, n_cols, out, err, sizeof err), err, "mlcore_predict");
}

static void release_arrow(struct ArrowArray *a, struct ArrowSchema *sc) {
  if (a != NULL && a->release != NULL) a->release(a);
  if (sc != NULL && sc->release != NULL) sc->release(sc);
}

int mlcore_predict_arrow(mlcore_model model, struct ArrowArray *array, struct ArrowSchema *schema, double *out,
                         int64_t out_len) {
  int r = check_state();
  if (r) return release_arrow(array, schema), r;
  int64_t s = slot_of(model);
  if (s < 0) return release_arrow(array, schema), MLCORE_E_BAD_HANDLE;
  if (array == NULL || schema == NULL) {
    release_arrow(array, schema);
    return fail(MLCORE_E_NULL_POINTER, "mlcore_predict_arrow: %s is NULL", array == NULL ? "array" : "schema");
  }
  if (array->release == NULL || schema->release == NULL) {
    release_arrow(array, schema);
    return fail(MLCORE_E_INPUT, "mlcore_predict_arrow: the %s struct is already released",
                array->release == NULL ? "ArrowArray" : "ArrowSchema");
  }
  if (schema->format == NULL || strcmp(schema->format, "+s") != 0) {
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%s", schema->format ? schema->format : "(null)");
    release_arrow(array, schema);
    return fail(MLCORE_E_SHAPE, "mlcore_predict_arrow: expected a struct array (format \"+s\"), got format \"%s\"", fmt);
  }
  if (array->length < 0 || (array->length > 0 && out == NULL)) {
    release_arrow(array, schema);
    return fail(array->length < 0 ? MLCORE_E_SHAPE : MLCORE_E_NULL_POINTER,
                "mlcore_predict_arrow: %s", array->length < 0 ? "negative array length" : "out is NULL");
  }
  const mlc_desc *d = &g_slots[s].desc;
  if (d->width > 0 && array->length > INT64_MAX / d->width) {
    release_arrow(array, schema);
    return fail(MLCORE_E_SHAPE, "mlcore_predict_arrow: array length too large");
  }
  if (out_len < array->length * d->width) {
    long long need = (long long)(array->length * d->width), n = (long long)array->length;
    release_arrow(array, schema);
    return fail(MLCORE_E_SHAPE, "mlcore_predict_arrow: out_len is %lld; %lld rows x %lld outputs need %lld",
                (long long)out_len, n, (long long)d->width, need);
  }
  char err[MLC_ERR_LEN] = "";
  int64_t n_rows = 0;
  /* pyarrow's import moves the structs (their release becomes NULL); if Python failed before the
   * import, they are still ours to release, as the header promises. */
  r = from_py(_mlcore_py_predict_arrow(s, array, schema, out, out_len, &n_rows, err, sizeof err), err,
              "mlcore_predict_arrow");
  release_arrow(array, schema);
  return r;
}

/* ---- the fast path ----------------------------------------------------------------------- */

typedef double (*mlc_linear_fn)(const double *, int64_t, int64_t, const double *, int64_t, double *, double *);
typedef int64_t (*mlc_table_fn)(const double *, int64_t *, double *);

/* One thread's workspace for one (slot, generation): a private copy of the table with its own
 * workspaces, or the linear kernel's scratch. */
typedef struct {
  mlcore_model handle;
  void *mem;
  int64_t *table;
  double *scratch;
  double *raw; /* raw kernel output when post-processing applies */
} mlc_tls_entry;

static pthread_key_t g_tls_key;
static pthread_once_t g_tls_once = PTHREAD_ONCE_INIT;
/* initial-exec: a plain %fs-relative load on the fast path, not a __tls_get_addr call (8 bytes of
 * static TLS; the dlopen(RTLD_LOCAL) test covers hosts that load the library late). */
static __thread __attribute__((tls_model("initial-exec"))) mlc_tls_entry *t_tab;

static void tls_destroy(void *p) {
  mlc_tls_entry *tab = (mlc_tls_entry *)p;
  for (int i = 0; i < MLC_MAX_SLOTS; i++) free(tab[i].mem);
  free(tab);
}

static void tls_key_init(void) { pthread_key_create(&g_tls_key, tls_destroy); }

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

static mlc_tls_entry *tls_entry(int64_t s, mlcore_model h, const mlc_desc *d) {
  if (t_tab == NULL) {
    pthread_once(&g_tls_once, tls_key_init);
    t_tab = (mlc_tls_entry *)calloc(MLC_MAX_SLOTS, sizeof(mlc_tls_entry));
    if (t_tab == NULL) return NULL;
    pthread_setspecific(g_tls_key, t_tab);
  }
  mlc_tls_entry *e = &t_tab[s];
  if (e->handle == h) return e;
  free(e->mem);
  memset(e, 0, sizeof *e);
  size_t size = round64(sizeof(double) * (size_t)(d->raw_width > 0 ? d->raw_width : 1));
  size_t table_bytes = 0, scratch_bytes = 0;
  if (d->row_kind == MLC_ROW_TABLE) {
    table_bytes = round64(sizeof(int64_t) * (size_t)d->table_words);
    for (int64_t w = 0; w < d->n_ws; w++) table_bytes += round64((size_t)d->ws_bytes[w]);
  } else {
    scratch_bytes = round64(sizeof(double) * (size_t)(d->scratch > 0 ? d->scratch : 1));
  }
  void *mem = NULL;
  if (posix_memalign(&mem, 64, size + table_bytes + scratch_bytes) != 0) return NULL;
  memset(mem, 0, size + table_bytes + scratch_bytes);
  char *p = (char *)mem;
  e->raw = (double *)p;
  p += size;
  if (d->row_kind == MLC_ROW_TABLE) {
    e->table = (int64_t *)p;
    memcpy(e->table, d->table, sizeof(int64_t) * (size_t)d->table_words);
    p += round64(sizeof(int64_t) * (size_t)d->table_words);
    for (int64_t w = 0; w < d->n_ws; w++) {
      e->table[d->ws_word[w]] = (int64_t)(intptr_t)p;
      p += round64((size_t)d->ws_bytes[w]);
    }
  } else {
    e->scratch = (double *)p;
  }
  e->mem = mem;
  e->handle = h;
  return e;
}

/* The error for the first input value the model refuses (mask bit 0: NaN, bit 1: +-inf), or -1
 * when there is none. */
static int bad_value(int64_t s, const double *row, int64_t mask, const char *what) {
  const mlc_desc *d = &g_slots[s].desc;
  for (int64_t j = 0; j < d->n_inputs; j++)
    if (((mask & 1) && isnan(row[j])) || ((mask & 2) && isinf(row[j])))
      return fail(MLCORE_E_INPUT, "mlcore_predict_row_fast: column `%s` is %s; %s", g_slots[s].name_ptr[j],
                  isnan(row[j]) ? "NaN" : (row[j] > 0 ? "inf" : "-inf"), what);
  return -1;
}

static void post_process(const mlc_desc *d, const double *raw, double *out) {
  const int64_t k = d->raw_width;
  const double a = d->post_param;
  switch (d->post) {
    case MLC_POST_SIGMOID2: {
      double t = 1.0 / (1.0 + exp(-a * raw[0]));
      out[0] = 1.0 - t;
      out[1] = t;
      break;
    }
    case MLC_POST_DIVIDE2: {
      double t = raw[0] / a;
      out[0] = 1.0 - t;
      out[1] = t;
      break;
    }
    case MLC_POST_SIGMOID:
      for (int64_t j = 0; j < k; j++) out[j] = 1.0 / (1.0 + exp(-a * raw[j]));
      break;
    case MLC_POST_EXP:
      for (int64_t j = 0; j < k; j++) out[j] = exp(raw[j]);
      break;
    case MLC_POST_DIVIDE:
      for (int64_t j = 0; j < k; j++) out[j] = raw[j] / a;
      break;
    case MLC_POST_OVA: {
      double z = 0.0;
      for (int64_t j = 0; j < k; j++) z += (out[j] = 1.0 / (1.0 + exp(-a * raw[j])));
      for (int64_t j = 0; j < k; j++) out[j] /= z;
      break;
    }
    case MLC_POST_SOFTMAX: {
      double m = raw[0], z = 0.0;
      for (int64_t j = 1; j < k; j++) m = raw[j] > m ? raw[j] : m;
      for (int64_t j = 0; j < k; j++) z += (out[j] = exp(raw[j] - m));
      for (int64_t j = 0; j < k; j++) out[j] /= z;
      break;
    }
  }
}

int mlcore_predict_row_fast(mlcore_model model, const double *row, double *out) {
  if (__builtin_expect(__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) != 1, 0)) return check_state();
  int64_t s = slot_of(model);
  if (__builtin_expect(s < 0, 0)) return MLCORE_E_BAD_HANDLE;
  if (__builtin_expect(row == NULL || out == NULL, 0))
    return fail(MLCORE_E_NULL_POINTER, "mlcore_predict_row_fast: %s is NULL", row == NULL ? "row" : "out");
  mlc_slot *sl = &g_slots[s];
  const mlc_desc *d = &sl->desc;
  if (__builtin_expect(!sl->fast, 0))
    return fail(MLCORE_E_NO_FAST_PATH, "mlcore_predict_row_fast: %s; use mlcore_predict",
                d->no_fast_reason[0] ? d->no_fast_reason : "this bundle has no compiled row path");
  mlc_tls_entry *e = t_tab != NULL && t_tab[s].handle == model ? &t_tab[s] : tls_entry(s, model, d);
  if (__builtin_expect(e == NULL, 0)) return fail(MLCORE_E_NO_MEMORY, "mlcore_predict_row_fast: out of memory");
  if (d->check) {
    for (int64_t j = 0; j < d->n_inputs; j++) {
      double v = row[j];
      if (((d->check & 1) && isnan(v)) || ((d->check & 2) && isinf(v)))
        return bad_value(s, row, d->check, "the model does not accept this value");
    }
  }
  double *dst = d->post == MLC_POST_NONE ? out : e->raw;
  if (d->row_kind == MLC_ROW_LINEAR) {
    double r = ((mlc_linear_fn)(intptr_t)d->fn)((const double *)(intptr_t)d->lin[0], d->lin[1], d->lin[2], row,
                                                d->lin[3], dst, e->scratch);
    if (__builtin_expect(r != r, 0)) {
      int st = bad_value(s, row, 3, "the model expects finite values");
      /* Finite inputs whose score overflowed: the Python path gives scikit-learn's +-inf. */
      return st >= 0 ? st : mlcore_predict(model, row, 1, d->n_inputs, out, d->width);
    }
  } else {
    int64_t rc = ((mlc_table_fn)(intptr_t)d->fn)(row, e->table, dst);
    if (__builtin_expect(rc != 0, 0)) { /* 1 + the index of a feature whose value the model refuses */
      if (rc > 0 && rc <= d->n_inputs) {
        double v = row[rc - 1];
        return fail(MLCORE_E_INPUT, "mlcore_predict_row_fast: column `%s` is %s; the model does not accept this value",
                    g_slots[s].name_ptr[rc - 1], isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"));
      }
      return fail(MLCORE_E_INPUT, "mlcore_predict_row_fast: the model refused the row (code %lld)", (long long)rc);
    }
  }
  if (d->post != MLC_POST_NONE) post_process(d, dst, out);
  return MLCORE_OK;
}

const mlc_desc *mlcore__row_desc(mlcore_model model) {
  if (check_state()) return NULL;
  int64_t s = slot_of(model);
  return s < 0 ? NULL : &g_slots[s].desc;
}
