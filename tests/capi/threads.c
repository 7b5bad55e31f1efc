/* Many threads on the fast path at once: every result must equal the single-thread one.
 *   threads BUNDLE ROWS_FILE N_ROWS N_THREADS CALLS_PER_THREAD
 * Prints "expected <i> <v...>" per row (single thread, before the threads start), then
 * "threads=<t> calls=<n> mismatches=<m> errors=<e>" and the count of concurrent mlcore_predict
 * (Python path) calls made every 5000th call, checked to 1e-12. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static mlcore_model g_model;
static double *g_rows, *g_expected;
static int64_t g_n_rows, g_n_in, g_width, g_calls;

typedef struct {
  int id;
  long long mismatches, errors, batch_calls, batch_mismatches;
} job;

static void *worker(void *arg) {
  job *j = (job *)arg;
  double out[64];
  for (int64_t c = 0; c < g_calls; c++) {
    int64_t i = (c * 7 + j->id * 13) % g_n_rows; /* threads walk the rows in different orders */
    if (mlcore_predict_row_fast(g_model, g_rows + i * g_n_in, out) != MLCORE_OK) {
      j->errors++;
      continue;
    }
    if (memcmp(out, g_expected + i * g_width, sizeof(double) * (size_t)g_width) != 0) j->mismatches++;
    if (c % 5000 == 0) {
      /* Now and then the Python path too, concurrently with the other threads' fast calls. */
      j->batch_calls++;
      if (mlcore_predict(g_model, g_rows + i * g_n_in, 1, g_n_in, out, g_width) != MLCORE_OK) {
        j->errors++;
        continue;
      }
      for (int64_t k = 0; k < g_width; k++) {
        double e = g_expected[i * g_width + k];
        if (fabs(out[k] - e) > 1e-12 * (1.0 + fabs(e))) j->batch_mismatches++;
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 6) return fprintf(stderr, "usage: threads BUNDLE ROWS N_ROWS N_THREADS CALLS\n"), 2;
  g_n_rows = atoll(argv[3]);
  int n_threads = atoi(argv[4]);
  g_calls = atoll(argv[5]);
  if (mlcore_init() || mlcore_load(argv[1], &g_model) || mlcore_n_inputs(g_model, &g_n_in) ||
      mlcore_output_width(g_model, &g_width))
    return fprintf(stderr, "setup: %s\n", mlcore_last_error()), 1;
  if (g_width > 64) return fprintf(stderr, "width %lld > 64\n", (long long)g_width), 1;
  g_rows = malloc(sizeof(double) * (size_t)(g_n_rows * g_n_in));
  g_expected = malloc(sizeof(double) * (size_t)(g_n_rows * g_width));
  FILE *f = fopen(argv[2], "rb");
  if (!f || fread(g_rows, sizeof(double), (size_t)(g_n_rows * g_n_in), f) != (size_t)(g_n_rows * g_n_in))
    return fprintf(stderr, "cannot read rows\n"), 1;
  fclose(f);
  for (int64_t i = 0; i < g_n_rows; i++) {
    if (mlcore_predict_row_fast(g_model, g_rows + i * g_n_in, g_expected + i * g_width))
      return fprintf(stderr, "row %lld: %s\n", (long long)i, mlcore_last_error()), 1;
    printf("expected %lld", (long long)i);
    for (int64_t k = 0; k < g_width; k++) printf(" %.17g", g_expected[i * g_width + k]);
    printf("\n");
  }
  pthread_t tid[256];
  job jobs[256];
  if (n_threads > 256) n_threads = 256;
  for (int t = 0; t < n_threads; t++) {
    jobs[t] = (job){t, 0, 0, 0, 0};
    pthread_create(&tid[t], NULL, worker, &jobs[t]);
  }
  long long mism = 0, errs = 0, bcalls = 0, bmism = 0;
  for (int t = 0; t < n_threads; t++) {
    pthread_join(tid[t], NULL);
    mism += jobs[t].mismatches;
    errs += jobs[t].errors;
    bcalls += jobs[t].batch_calls;
    bmism += jobs[t].batch_mismatches;
  }
  printf("threads=%d calls=%lld mismatches=%lld errors=%lld\n", n_threads, (long long)n_threads * g_calls, mism,
         errs);
  printf("python_path_calls=%lld python_path_mismatches=%lld\n", bcalls, bmism);
  mlcore_free(g_model);
  mlcore_shutdown();
  return mism || errs || bmism;
}
