// Example: score Arrow columns with an mlcore bundle from C++, through the Arrow C Data Interface.
//
//   predict_arrow BUNDLE_DIR ROWS_FILE N_ROWS
//
// ROWS_FILE is as for predict.c (row-major float64). This program lays the values out as Arrow
// does (one float64 buffer per column, a validity bitmap where a value is NaN, to show nulls)
// and hands mlcore a struct array of those columns, named as the bundle's inputs. mlcore reads
// the buffers in place and calls the release callbacks when it is done. Prints
// "arrow <i> <v0> ..." per row. Build:
//
//   c++ -std=c++17 predict_arrow.cpp -I<dir> -L<dir> -lmlcore -Wl,-rpath,<dir> -o predict_arrow
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "mlcore.h"

namespace {

// Everything the exported structs point into; freed by the release callbacks.
struct Column {
  std::string name;
  std::vector<double> values;
  std::vector<uint8_t> validity;  // empty: no nulls
  int64_t null_count = 0;
  const void* buffers[2] = {nullptr, nullptr};
};

struct Batch {
  std::vector<Column> columns;
  std::vector<ArrowArray> child_arrays;
  std::vector<ArrowArray*> child_array_ptrs;
  std::vector<ArrowSchema> child_schemas;
  std::vector<ArrowSchema*> child_schema_ptrs;
  const void* struct_buffers[1] = {nullptr};
  int live = 2;  // the array and the schema each hold a reference
};

int released = 0;  // how many top-level structs mlcore released (checked at the end)

void drop(Batch* b) {
  if (--b->live == 0) delete b;
}

void release_child_array(ArrowArray* a) { a->release = nullptr; }
void release_child_schema(ArrowSchema* s) { s->release = nullptr; }

void release_array(ArrowArray* a) {
  for (int64_t i = 0; i < a->n_children; i++)
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
  drop(static_cast<Batch*>(a->private_data));
  a->release = nullptr;
  released++;
}

void release_schema(ArrowSchema* s) {
  for (int64_t i = 0; i < s->n_children; i++)
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
  drop(static_cast<Batch*>(s->private_data));
  s->release = nullptr;
  released++;
}

void export_batch(Batch* b, int64_t n_rows, ArrowArray* out_array, ArrowSchema* out_schema) {
  const size_t n = b->columns.size();
  b->child_arrays.resize(n);
  b->child_schemas.resize(n);
  for (size_t j = 0; j < n; j++) {
    Column& c = b->columns[j];
    c.buffers[0] = c.null_count ? c.validity.data() : nullptr;
    c.buffers[1] = c.values.data();
    b->child_arrays[j] = ArrowArray{n_rows, c.null_count, 0, 2, 0, c.buffers, nullptr, nullptr,
                                    release_child_array, nullptr};
    b->child_schemas[j] = ArrowSchema{"g", c.name.c_str(), nullptr, ARROW_FLAG_NULLABLE, 0, nullptr, nullptr,
                                      release_child_schema, nullptr};
    b->child_array_ptrs.push_back(&b->child_arrays[j]);
    b->child_schema_ptrs.push_back(&b->child_schemas[j]);
  }
  *out_array = ArrowArray{n_rows, 0, 0, 1, static_cast<int64_t>(n), b->struct_buffers,
                          b->child_array_ptrs.data(), nullptr, release_array, b};
  *out_schema = ArrowSchema{"+s", "", nullptr, 0, static_cast<int64_t>(n), b->child_schema_ptrs.data(), nullptr,
                            release_schema, b};
}

int check(int status, const char* what) {
  if (status != MLCORE_OK) std::fprintf(stderr, "%s failed (%d): %s\n", what, status, mlcore_last_error());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR ROWS_FILE N_ROWS\n", argv[0]);
    return 2;
  }
  const int64_t n_rows = std::atoll(argv[3]);
  mlcore_model model = 0;
  int64_t n_in = 0, width = 0;
  if (check(mlcore_init(), "mlcore_init") || check(mlcore_load(argv[1], &model), "mlcore_load") ||
      check(mlcore_n_inputs(model, &n_in), "mlcore_n_inputs") ||
      check(mlcore_output_width(model, &width), "mlcore_output_width"))
    return 1;

  std::vector<double> rows(static_cast<size_t>(n_rows * n_in));
  std::ifstream f(argv[2], std::ios::binary);
  if (!f.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(rows.size() * sizeof(double)))) {
    std::fprintf(stderr, "cannot read %lld rows from %s\n", static_cast<long long>(n_rows), argv[2]);
    return 1;
  }

  auto* batch = new Batch();
  for (int64_t j = 0; j < n_in; j++) {
    const char* name = nullptr;
    if (check(mlcore_input_name(model, j, &name), "mlcore_input_name")) return 1;
    Column c;
    c.name = name;
    c.values.resize(static_cast<size_t>(n_rows));
    c.validity.assign(static_cast<size_t>((n_rows + 7) / 8), 0);
    for (int64_t i = 0; i < n_rows; i++) {
      double v = rows[static_cast<size_t>(i * n_in + j)];
      c.values[static_cast<size_t>(i)] = std::isnan(v) ? 0.0 : v;  // a null slot's value is unspecified
      if (std::isnan(v))
        c.null_count++;
      else
        c.validity[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(1u << (i % 8));
    }
    batch->columns.push_back(std::move(c));
  }
  ArrowArray array;
  ArrowSchema schema;
  export_batch(batch, n_rows, &array, &schema);

  std::vector<double> out(static_cast<size_t>(n_rows * width + 1));
  if (check(mlcore_predict_arrow(model, &array, &schema, out.data(), n_rows * width), "mlcore_predict_arrow"))
    return 1;
  for (int64_t i = 0; i < n_rows; i++) {
    std::printf("arrow %lld", static_cast<long long>(i));
    for (int64_t k = 0; k < width; k++) std::printf(" %.17g", out[static_cast<size_t>(i * width + k)]);
    std::printf("\n");
  }
  if (check(mlcore_free(model), "mlcore_free") || check(mlcore_shutdown(), "mlcore_shutdown")) return 1;
  if (released != 2 || array.release != nullptr || schema.release != nullptr) {
    std::fprintf(stderr, "expected mlcore to release both structs, released %d\n", released);
    return 1;
  }
  std::fprintf(stderr, "both Arrow structs released by mlcore\n");
  return 0;
}
