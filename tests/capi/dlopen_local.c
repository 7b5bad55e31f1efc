/* The library opened with dlopen(RTLD_LOCAL), as plugin hosts do: numpy and the other extension
 * modules must still import (mlcore_init promotes libpython to RTLD_GLOBAL).
 *   dlopen_local LIBMLCORE_SO BUNDLE X0 X1 ...   -> prints "width=<w> out0=<v>" */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*init_fn)(void);
typedef int (*load_fn)(const char *, uint64_t *);
typedef int (*width_fn)(uint64_t, int64_t *);
typedef int (*predict_fn)(uint64_t, const double *, int64_t, int64_t, double *, int64_t);
typedef const char *(*err_fn)(void);

int main(int argc, char **argv) {
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fprintf(stderr, "dlopen: %s\n", dlerror()), 1;
  init_fn init = (init_fn)dlsym(lib, "mlcore_init");
  load_fn load = (load_fn)dlsym(lib, "mlcore_load");
  width_fn width = (width_fn)dlsym(lib, "mlcore_output_width");
  predict_fn predict = (predict_fn)dlsym(lib, "mlcore_predict");
  err_fn last = (err_fn)dlsym(lib, "mlcore_last_error");
  uint64_t m = 0;
  int64_t w = 0, n = argc - 3;
  double x[64], out[64];
  for (int64_t j = 0; j < n && j < 64; j++) x[j] = atof(argv[3 + j]);
  if (init() || load(argv[2], &m) || width(m, &w) || predict(m, x, 1, n, out, 64))
    return fprintf(stderr, "failed: %s\n", last()), 1;
  printf("width=%lld out0=%.17g\n", (long long)w, out[0]);
  return 0;
}
