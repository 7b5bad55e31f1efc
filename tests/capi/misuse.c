/* Every misuse must return a non-zero status with a message, never crash.
 *   misuse GOOD_BUNDLE TAMPERED_BUNDLE MISSING_PATH
 * Prints one line per case: "<case> <status> <message>". The good bundle has 3 inputs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

#define CASE(name, call)                                                  \
  do {                                                                    \
    int st_ = (call);                                                     \
    printf("%s %d %s\n", name, st_, st_ ? mlcore_last_error() : "");     \
  } while (0)

static int n_released;
static void rel_schema(struct ArrowSchema *s) {
  s->release = NULL;
  n_released++;
}
static void rel_array(struct ArrowArray *a) {
  a->release = NULL;
  n_released++;
}

int main(int argc, char **argv) {
  const char *good = argv[1], *tampered = argv[2], *missing = argv[3];
  mlcore_model m = 0, m2 = 0, bad = 0;
  double row[3] = {0.5, -1.0, 2.0}, rows[6] = {0.5, -1.0, 2.0, 1.0, 1.0, 1.0}, out[16];
  int64_t n = 0;
  const char *name = NULL;

  /* Before mlcore_init. */
  CASE("before_init_load", mlcore_load(good, &m));
  CASE("before_init_predict", mlcore_predict(m, rows, 2, 3, out, 16));
  CASE("before_init_fast", mlcore_predict_row_fast(m, row, out));
  CASE("before_init_free", mlcore_free(m));
  CASE("before_init_shutdown", mlcore_shutdown());

  CASE("init", mlcore_init());
  CASE("init_again", mlcore_init());
  CASE("load_null_path", mlcore_load(NULL, &m));
  CASE("load_null_out", mlcore_load(good, NULL));
  CASE("load_missing", mlcore_load(missing, &bad));
  printf("handle_after_failed_load %llu\n", (unsigned long long)bad);
  CASE("load_tampered", mlcore_load(tampered, &bad));
  CASE("load_good", mlcore_load(good, &m));

  CASE("n_inputs_null", mlcore_n_inputs(m, NULL));
  CASE("input_name_range", mlcore_input_name(m, 3, &name));
  CASE("input_name_negative", mlcore_input_name(m, -1, &name));
  CASE("predict_wrong_cols", mlcore_predict(m, rows, 2, 2, out, 16));
  CASE("predict_negative_rows", mlcore_predict(m, rows, -1, 3, out, 16));
  CASE("predict_null_rows", mlcore_predict(m, NULL, 2, 3, out, 16));
  CASE("predict_null_out", mlcore_predict(m, rows, 2, 3, NULL, 16));
  CASE("predict_out_too_small", mlcore_predict(m, rows, 2, 3, out, 1));
  CASE("predict_zero_rows_ok", mlcore_predict(m, NULL, 0, 3, NULL, 0));
  row[1] = NAN;
  CASE("predict_nan", mlcore_predict(m, row, 1, 3, out, 16));
  CASE("fast_nan", mlcore_predict_row_fast(m, row, out));
  row[1] = INFINITY;
  CASE("fast_inf", mlcore_predict_row_fast(m, row, out));
  row[1] = 1e308; /* finite, but the score overflows: the Python path's answer, not an error */
  CASE("fast_overflow", mlcore_predict_row_fast(m, row, out));
  printf("fast_overflow_out %.17g %.17g\n", out[0], out[1]);
  row[1] = -1.0;
  CASE("fast_null_row", mlcore_predict_row_fast(m, NULL, out));
  CASE("fast_null_out", mlcore_predict_row_fast(m, row, NULL));
  CASE("fast_ok", mlcore_predict_row_fast(m, row, out));
  CASE("handle_zero", mlcore_predict_row_fast(0, row, out));
  CASE("handle_garbage", mlcore_predict(0xdeadbeef12345ULL, rows, 2, 3, out, 16));
  CASE("handle_wrong_generation", mlcore_predict_row_fast(m + (1ULL << 32), row, out));
  CASE("handle_generation_zero", mlcore_predict(m & 0xffffffffULL, rows, 2, 3, out, 16));
  CASE("handle_unused_slot", mlcore_predict(m + 7, rows, 2, 3, out, 16));

  /* Arrow: NULL structs, a non-struct array (released by mlcore), already released. */
  CASE("arrow_null", mlcore_predict_arrow(m, NULL, NULL, out, 16));
  {
    const void *bufs[2] = {NULL, row};
    struct ArrowArray a = {3, 0, 0, 2, 0, bufs, NULL, NULL, rel_array, NULL};
    struct ArrowSchema s = {"g", "x", NULL, 0, 0, NULL, NULL, rel_schema, NULL};
    n_released = 0;
    CASE("arrow_not_struct", mlcore_predict_arrow(m, &a, &s, out, 16));
    printf("arrow_not_struct_released %d\n", n_released);
    CASE("arrow_already_released", mlcore_predict_arrow(m, &a, &s, out, 16));
  }
  {
    /* A struct array whose column names are not the bundle's. */
    const void *bufs[2] = {NULL, row};
    const void *sbufs[1] = {NULL};
    struct ArrowArray child = {1, 0, 0, 2, 0, bufs, NULL, NULL, rel_array, NULL};
    struct ArrowArray *children[1] = {&child};
    struct ArrowSchema cs = {"g", "not_an_input", NULL, 0, 0, NULL, NULL, rel_schema, NULL};
    struct ArrowSchema *cschildren[1] = {&cs};
    struct ArrowArray a = {1, 0, 0, 1, 1, sbufs, children, NULL, rel_array, NULL};
    struct ArrowSchema s = {"+s", "", NULL, 0, 1, cschildren, NULL, rel_schema, NULL};
    CASE("arrow_wrong_columns", mlcore_predict_arrow(m, &a, &s, out, 16));
  }

  CASE("free", mlcore_free(m));
  CASE("double_free", mlcore_free(m));
  CASE("predict_after_free", mlcore_predict(m, rows, 2, 3, out, 16));
  CASE("fast_after_free", mlcore_predict_row_fast(m, row, out));
  CASE("n_inputs_after_free", mlcore_n_inputs(m, &n));
  CASE("load_reuses_slot", mlcore_load(good, &m2));
  printf("same_slot %d different_handle %d\n", (int)((m2 & 0xffffffffu) == (m & 0xffffffffu)), (int)(m2 != m));
  CASE("stale_after_reuse", mlcore_predict_row_fast(m, row, out));
  CASE("new_handle_ok", mlcore_predict_row_fast(m2, row, out));
  CASE("shutdown", mlcore_shutdown());
  CASE("after_shutdown", mlcore_predict_row_fast(m2, row, out));
  CASE("reinit", mlcore_init());
  CASE("after_reinit_old_handle", mlcore_predict_row_fast(m2, row, out));
  CASE("load_after_reinit", mlcore_load(good, &m));
  CASE("fast_after_reinit", mlcore_predict_row_fast(m, row, out));
  return 0;
}
