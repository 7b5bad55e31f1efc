/* A start that fails (mlcore cannot be imported) must look like a failure, every time.
 * Prints "<call> <status> <message>" lines. */
#include <stdio.h>

#include "mlcore.h"

int main(int argc, char **argv) {
  mlcore_model m = 0;
  double row[1] = {0.0}, out[4];
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
