/* Example: score rows with an mlcore bundle from C.
 *
 *   predict BUNDLE_DIR ROWS_FILE N_ROWS
 *
 * ROWS_FILE holds N_ROWS x n_inputs float64 values, row-major, native byte order. Prints one line
 * per row: "batch <i> <v0> <v1> ..." (mlcore_predict), then, where the bundle has the compiled
 * row path, "fast <i> <v0> ..." (mlcore_predict_row_fast). Build:
 *
 *   cc predict.c -I<dir> -L<dir> -lmlcore -Wl,-rpath,<dir> -o predict
 */
#include <stdio.h>
#include <stdlib.h>

#include "mlcore.h"

#define CHECK(call)                                                              \
  do {                                                                           \
    int st_ = (call);                                                            \
    if (st_ != MLCORE_OK) {                                                      \
      fprintf(stderr, "%s failed (%d): %s\n", #call, st_, mlcore_last_error()); \
      return 1;                                                                  \
    }                                                                            \
  } while (0)

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BUNDLE_DIR ROWS_FILE N_ROWS\n", argv[0]);
    return 2;
  }
  long long n_rows = atoll(argv[3]);
  mlcore_model model = 0;
  int64_t n_in = 0, width = 0;
  const char *method = NULL;
  int fast = 0;

  CHECK(mlcore_init());
  CHECK(mlcore_load(argv[1], &model));
  CHECK(mlcore_n_inputs(model, &n_in));
  CHECK(mlcore_output_width(model, &width));
  CHECK(mlcore_output_method(model, &method));
  CHECK(mlcore_has_fast_path(model, &fast));
  fprintf(stderr, "inputs:");
  for (int64_t j = 0; j < n_in; j++) {
    const char *name = NULL;
    CHECK(mlcore_input_name(model, j, &name));
    fprintf(stderr, " %s", name);
  }
  fprintf(stderr, "\noutput: %s x %lld, fast path: %s\n", method, (long long)width, fast ? "yes" : "no");

  double *rows = malloc(sizeof(double) * (size_t)(n_rows * n_in + 1));
  double *out = malloc(sizeof(double) * (size_t)(n_rows * width + 1));
  FILE *f = fopen(argv[2], "rb");
  if (rows == NULL || out == NULL || f == NULL) return fprintf(stderr, "cannot read %s\n", argv[2]), 1;
  if (fread(rows, sizeof(double), (size_t)(n_rows * n_in), f) != (size_t)(n_rows * n_in))
    return fprintf(stderr, "%s is shorter than %lld rows\n", argv[2], n_rows), 1;
  fclose(f);

  CHECK(mlcore_predict(model, rows, n_rows, n_in, out, n_rows * width));
  for (long long i = 0; i < n_rows; i++) {
    printf("batch %lld", i);
    for (int64_t k = 0; k < width; k++) printf(" %.17g", out[i * width + k]);
    printf("\n");
  }
  if (fast) {
    for (long long i = 0; i < n_rows; i++) {
      CHECK(mlcore_predict_row_fast(model, rows + i * n_in, out));
      printf("fast %lld", i);
      for (int64_t k = 0; k < width; k++) printf(" %.17g", out[k]);
      printf("\n");
    }
  }
  CHECK(mlcore_free(model));
  CHECK(mlcore_shutdown());
  free(rows);
  free(out);
  return 0;
}
