/* init, load BUNDLE, one fast call on a row of N_INPUTS zeros, init again: prints
 * "<call> <status> <message>" per call (for a start that fails, and for bundles without a fast
 * path, or a refused value).   statuses BUNDLE [N_INPUTS [VALUE_OF_INPUT_0]] */
#include <stdio.h>
#include <stdlib.h>

#include "mlcore.h"

int main(int argc, char **argv) {
  mlcore_model m = 0;
  int n = argc > 2 ? atoi(argv[2]) : 1;
  double *row = calloc((size_t)(n > 0 ? n : 1), sizeof(double)), out[64];
  if (argc > 3) row[0] = strtod(argv[3], NULL); /* "inf", "nan" or a number */
  int st = mlcore_init();
  printf("init %d %s\n", st, mlcore_last_error());
  st = mlcore_load(argc > 1 ? argv[1] : "x", &m);
  printf("load %d %s\n", st, mlcore_last_error());
  st = mlcore_predict_row_fast(m, row, out);
  printf("fast %d %s\n", st, mlcore_last_error());
  st = mlcore_init();
  printf("init_again %d %s\n", st, mlcore_last_error());
  return 0;
}
