/* libmlcore from C: the fast path against the compiled kernel called directly, and start time.
 *
 *   capi_bench BUNDLE ROWS_FILE N_ROWS LOOP_CALLS REPS LATENCY_SAMPLES
 *
 * Prints one JSON object. "kernel" calls the model's row function through the same descriptor
 * the fast path uses (function pointer, model pointer and a private workspace loaded once): the
 * floor any C host pays. "fast" is mlcore_predict_row_fast (handle check, per-thread workspace
 * lookup, input checks). Loops: REPS repetitions of LOOP_CALLS calls over distinct rows,
 * alternating which path goes first; mean ns per call per repetition. Latency: per-call times
 * (clock_gettime around one call; the same ~20 ns timer cost in both), kernel and fast
 * interleaved call by call on the same rows. "python_row": mlcore_predict with one row
 * (the Python path), for scale. Compiled with -O2; runs on one thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlcore_internal.h"

typedef double (*linear_fn)(const double *, int64_t, int64_t, const double *, int64_t, double *, double *);
typedef int64_t (*table_fn)(const double *, int64_t *, double *);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(double *v, int64_t n, double q) {
  qsort(v, (size_t)n, sizeof(double), cmp);
  int64_t i = (int64_t)(q * (double)(n - 1) + 0.5);
  return v[i];
}

/* The direct call: everything resolved once, as a host that embedded the kernel itself would. */
static const mlc_desc *D;
static int64_t *g_table;
static double *g_scratch;

static inline void kernel(const double *row, double *out) {
  if (D->row_kind == MLC_ROW_LINEAR)
    ((linear_fn)(intptr_t)D->fn)((const double *)(intptr_t)D->lin[0], D->lin[1], D->lin[2], row, D->lin[3], out,
                                 g_scratch);
  else
    ((table_fn)(intptr_t)D->fn)(row, g_table, out);
}

static volatile double sink;

int main(int argc, char **argv) {
  if (argc != 7) return fprintf(stderr, "usage: capi_bench BUNDLE ROWS N_ROWS LOOP_CALLS REPS SAMPLES\n"), 2;
  int64_t n_rows = atoll(argv[3]), calls = atoll(argv[4]), reps = atoll(argv[5]), samples = atoll(argv[6]);
  mlcore_model m = 0;
  int64_t p = 0, w = 0;
  double t0 = now();
  if (mlcore_init()) return fprintf(stderr, "init: %s\n", mlcore_last_error()), 1;
  double t_init = now() - t0;
  t0 = now();
  if (mlcore_load(argv[1], &m) || mlcore_n_inputs(m, &p) || mlcore_output_width(m, &w))
    return fprintf(stderr, "load: %s\n", mlcore_last_error()), 1;
  double t_load = now() - t0;
  D = mlcore__row_desc(m);
  if (D == NULL || D->row_kind == MLC_ROW_NONE || D->post != MLC_POST_NONE)
    return fprintf(stderr, "no fast path to compare: %s\n", D ? D->no_fast_reason : "?"), 1;

  double *rows = malloc(sizeof(double) * (size_t)(n_rows * p));
  double *out = calloc((size_t)(w + 64), sizeof(double));
  FILE *f = fopen(argv[2], "rb");
  if (!rows || !out || !f || fread(rows, sizeof(double), (size_t)(n_rows * p), f) != (size_t)(n_rows * p))
    return fprintf(stderr, "cannot read rows\n"), 1;
  fclose(f);
  /* The kernel's private workspace, as the fast path builds one per thread. */
  g_scratch = calloc((size_t)(D->scratch + 1), sizeof(double));
  if (D->row_kind == MLC_ROW_TABLE) {
    g_table = malloc(sizeof(int64_t) * (size_t)D->table_words);
    memcpy(g_table, D->table, sizeof(int64_t) * (size_t)D->table_words);
    for (int64_t k = 0; k < D->n_ws; k++) g_table[D->ws_word[k]] = (int64_t)(intptr_t)calloc(1, (size_t)D->ws_bytes[k]);
  }

  t0 = now();
  int st = mlcore_predict_row_fast(m, rows, out);
  double t_first_fast = now() - t0;
  if (st) return fprintf(stderr, "fast: %s\n", mlcore_last_error()), 1;
  /* Same numbers both ways (the benchmark must compare like with like). */
  double *o2 = calloc((size_t)(w + 64), sizeof(double));
  for (int64_t i = 0; i < n_rows; i++) {
    mlcore_predict_row_fast(m, rows + i * p, out);
    kernel(rows + i * p, o2);
    if (memcmp(out, o2, sizeof(double) * (size_t)w)) return fprintf(stderr, "row %lld differs\n", (long long)i), 1;
  }

  double *k_loop = malloc(sizeof(double) * (size_t)reps), *f_loop = malloc(sizeof(double) * (size_t)reps);
  for (int64_t r = 0; r < reps; r++) {
    for (int pass = 0; pass < 2; pass++) {
      int fast = (pass + (int)r) & 1;
      double s = 0;
      t0 = now();
      if (fast)
        for (int64_t c = 0; c < calls; c++) {
          mlcore_predict_row_fast(m, rows + (c % n_rows) * p, out);
          s += out[0];
        }
      else
        for (int64_t c = 0; c < calls; c++) {
          kernel(rows + (c % n_rows) * p, out);
          s += out[0];
        }
      double dt = (now() - t0) * 1e9 / (double)calls;
      sink = s;
      (fast ? f_loop : k_loop)[r] = dt;
    }
  }

  double *k_lat = malloc(sizeof(double) * (size_t)samples), *f_lat = malloc(sizeof(double) * (size_t)samples);
  for (int64_t c = 0; c < samples; c++) {
    const double *row = rows + (c % n_rows) * p;
    double a = now();
    kernel(row, out);
    double b = now();
    mlcore_predict_row_fast(m, row, out);
    double e = now();
    k_lat[c] = (b - a) * 1e9;
    f_lat[c] = (e - b) * 1e9;
  }
  int64_t py_samples = samples / 10 > 0 ? samples / 10 : 1;
  double *py_lat = malloc(sizeof(double) * (size_t)py_samples);
  for (int64_t c = 0; c < py_samples; c++) {
    const double *row = rows + (c % n_rows) * p;
    double a = now();
    mlcore_predict(m, row, 1, p, out, w);
    py_lat[c] = (now() - a) * 1e9;
  }

  double k_med = pct(k_loop, reps, 0.5), f_med = pct(f_loop, reps, 0.5);
  double k50 = pct(k_lat, samples, 0.5), k99 = pct(k_lat, samples, 0.99);
  double f50 = pct(f_lat, samples, 0.5), f99 = pct(f_lat, samples, 0.99);
  double py50 = pct(py_lat, py_samples, 0.5), py99 = pct(py_lat, py_samples, 0.99);
  printf("{\"n_inputs\": %lld, \"width\": %lld, \"row_kind\": %lld, \"init_s\": %.6f, \"load_s\": %.6f, "
         "\"first_fast_call_us\": %.3f, \"kernel_loop_ns\": %.2f, \"fast_loop_ns\": %.2f, "
         "\"overhead_loop_ns\": %.2f, \"kernel_p50_ns\": %.1f, \"kernel_p99_ns\": %.1f, \"fast_p50_ns\": %.1f, "
         "\"fast_p99_ns\": %.1f, \"python_row_p50_ns\": %.1f, \"python_row_p99_ns\": %.1f, \"reps\": %lld, "
         "\"loop_calls\": %lld, \"samples\": %lld}\n",
         (long long)p, (long long)w, (long long)D->row_kind, t_init, t_load, t_first_fast * 1e6, k_med, f_med,
         f_med - k_med, k50, k99, f50, f99, py50, py99, (long long)reps, (long long)calls, (long long)samples);
  mlcore_free(m);
  mlcore_shutdown();
  return 0;
}
