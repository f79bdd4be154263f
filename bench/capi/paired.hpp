// Paired side-by-side timing for the C ABI benchmarks: batches of the two paths run back to
// back, alternating which goes first, so drift (CPU frequency, other load) hits both alike; the
// median of the per-pair differences is the overhead estimate.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace momento::bench {

template <class F>
double ns_per_op(int iterations, F &&f) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / iterations;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Paired {
  std::vector<double> core, capi;  // ns per op of each batch, index = pair
};

template <class Core, class Capi>
Paired run_paired(int batches, int ops_per_batch, Core &&core_op, Capi &&capi_op) {
  Paired p;
  for (int b = 0; b < batches; ++b) {
    if (b % 2 == 0) {
      p.core.push_back(ns_per_op(ops_per_batch, core_op));
      p.capi.push_back(ns_per_op(ops_per_batch, capi_op));
    } else {
      p.capi.push_back(ns_per_op(ops_per_batch, capi_op));
      p.core.push_back(ns_per_op(ops_per_batch, core_op));
    }
  }
  return p;
}

inline void report(const char *name, const Paired &p) {
  std::vector<double> diff, ratio;
  for (size_t i = 0; i < p.core.size(); ++i) {
    diff.push_back(p.capi[i] - p.core[i]);
    ratio.push_back(p.capi[i] / p.core[i]);
  }
  std::vector<double> d = diff;
  std::sort(d.begin(), d.end());
  std::printf("%-8s core %11.1f ns/op   C ABI %11.1f ns/op   paired diff median %+9.1f ns "
              "(IQR %+.1f..%+.1f)   ratio median %.4f (%+.2f%%)\n",
              name, median(p.core), median(p.capi), median(diff), d[d.size() / 4],
              d[(3 * d.size()) / 4], median(ratio), (median(ratio) - 1) * 100);
}

}  // namespace momento::bench
