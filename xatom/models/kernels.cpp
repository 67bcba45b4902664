// xatom's CPU kernels, compiled on first use by torch.utils.cpp_extension (see kernels.py).
//
// 1. Fused continuous-filter convolution with a tabulated filter (SchNet):
//
//   out[i] = sum_{p: recv[p] = i} h[send[p]] * lerp(table[k[p]], table[k[p] + 1], frac[p])
//
// One pass gathers the sender row, interpolates the filter from a table that stays in cache, multiplies
// and accumulates into the receiver row, so no (n_pairs x n_filters) tensor is ever written to memory.
// Pairs must be sorted by receiver (recv_ptr is the CSR row pointer); the backward pass walks them by
// sender through a permutation (send_perm, send_ptr).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <vector>

using torch::Tensor;

static inline float cosine_cutoff(float r, float rc) {
  return r < rc ? 0.5f * (std::cos(r * static_cast<float>(M_PI) / rc) + 1.0f) : 0.0f;
}

// Input checks. The kernels read raw pointers, so a wrong dtype, layout or index would read or write outside the
// tensors; each check raises (RuntimeError in Python) naming the kernel, the argument and the offending value.
// The index checks are one pass over the pairs, small beside the kernels' pass over pairs x features.
static void check_tensor(const Tensor& t, const char* fn, const char* name, at::ScalarType dtype, int64_t dim) {
  TORCH_CHECK(t.device().is_cpu(), fn, ": ", name, " must be a CPU tensor, got one on ", t.device());
  TORCH_CHECK(t.scalar_type() == dtype, fn, ": ", name, " must be ", dtype, ", got ", t.scalar_type());
  TORCH_CHECK(t.dim() == dim, fn, ": ", name, " must have ", dim, " dimension(s), got shape ", t.sizes());
  TORCH_CHECK(t.is_contiguous(), fn, ": ", name, " must be contiguous (call .contiguous())");
}

static void check_length(const Tensor& t, int64_t dim, int64_t n, const char* fn, const char* name, const char* what) {
  TORCH_CHECK(t.size(dim) == n, fn, ": ", name, " must have ", n, " ", what, " along dimension ", dim,
              ", got shape ", t.sizes());
}

// every entry of an int64 index in [0, upper)
static void check_range(const Tensor& index, int64_t upper, const char* fn, const char* name) {
  const int64_t* v = index.data_ptr<int64_t>();
  for (int64_t p = 0; p < index.numel(); ++p)
    TORCH_CHECK(v[p] >= 0 && v[p] < upper, fn, ": ", name, "[", p, "] = ", v[p], " lies outside [0, ", upper, ")");
}

// a CSR row pointer over n_items: starts at 0, never decreases, ends at n_items
static void check_ptr(const Tensor& ptr, int64_t n_items, const char* fn, const char* name) {
  const int64_t* v = ptr.data_ptr<int64_t>();
  const int64_t n = ptr.numel();
  TORCH_CHECK(n >= 1, fn, ": ", name, " must have at least one entry");
  TORCH_CHECK(v[0] == 0, fn, ": ", name, " must start at 0, got ", v[0]);
  for (int64_t i = 0; i + 1 < n; ++i)
    TORCH_CHECK(v[i] <= v[i + 1], fn, ": ", name, " must not decrease, but ", name, "[", i, "] = ", v[i], " > ",
                name, "[", i + 1, "] = ", v[i + 1]);
  TORCH_CHECK(v[n - 1] == n_items, fn, ": ", name, " must end at the number of pairs, ", n_items, ", got ", v[n - 1]);
}

// h (n_send x F), table (G x F, G >= 2), k and frac and send (n_pairs), recv_ptr (n_recv + 1): k[p] + 1 is read
static void check_cfconv_inputs(const char* fn, const Tensor& h, const Tensor& table, const Tensor& k,
                                const Tensor& frac, const Tensor& send, const Tensor& recv_ptr) {
  check_tensor(h, fn, "h", at::kFloat, 2);
  check_tensor(table, fn, "table", at::kFloat, 2);
  check_tensor(k, fn, "k", at::kLong, 1);
  check_tensor(frac, fn, "frac", at::kFloat, 1);
  check_tensor(send, fn, "send", at::kLong, 1);
  check_tensor(recv_ptr, fn, "recv_ptr", at::kLong, 1);
  const int64_t P = k.size(0);
  check_length(table, 1, h.size(1), fn, "table", "filters (as h)");
  TORCH_CHECK(table.size(0) >= 2, fn, ": table needs at least 2 grid rows, got shape ", table.sizes());
  check_length(frac, 0, P, fn, "frac", "pairs (as k)");
  check_length(send, 0, P, fn, "send", "pairs (as k)");
  check_range(k, table.size(0) - 1, fn, "k");
  check_range(send, h.size(0), fn, "send");
  check_ptr(recv_ptr, P, fn, "recv_ptr");
}

Tensor cfconv_forward(Tensor h, Tensor table, Tensor k, Tensor frac, Tensor send, Tensor recv_ptr) {
  check_cfconv_inputs("cfconv_forward", h, table, k, frac, send, recv_ptr);
  const int64_t F = h.size(1);
  const int64_t n_recv = recv_ptr.size(0) - 1;
  auto out = torch::zeros({n_recv, F}, h.options());
  const float* H = h.data_ptr<float>();
  const float* T = table.data_ptr<float>();
  const int64_t* K = k.data_ptr<int64_t>();
  const float* FR = frac.data_ptr<float>();
  const int64_t* S = send.data_ptr<int64_t>();
  const int64_t* RP = recv_ptr.data_ptr<int64_t>();
  float* O = out.data_ptr<float>();
  at::parallel_for(0, n_recv, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* o = O + i * F;
      for (int64_t p = RP[i]; p < RP[i + 1]; ++p) {
        const float* x = H + S[p] * F;
        const float* lo = T + K[p] * F;
        const float* hi = lo + F;
        const float f = FR[p];
        for (int64_t c = 0; c < F; ++c) o[c] += x[c] * (lo[c] + f * (hi[c] - lo[c]));
      }
    }
  });
  return out;
}

// Returns grad_h (n_send x F), grad_table (G x F) and grad_frac (n_pairs).
std::vector<Tensor> cfconv_backward(Tensor grad_out, Tensor h, Tensor table, Tensor k, Tensor frac, Tensor send,
                                    Tensor recv, Tensor recv_ptr, Tensor send_perm, Tensor send_ptr,
                                    bool need_frac) {
  const char* fn = "cfconv_backward";
  check_cfconv_inputs(fn, h, table, k, frac, send, recv_ptr);
  check_tensor(grad_out, fn, "grad_out", at::kFloat, 2);
  check_tensor(recv, fn, "recv", at::kLong, 1);
  check_tensor(send_perm, fn, "send_perm", at::kLong, 1);
  check_tensor(send_ptr, fn, "send_ptr", at::kLong, 1);
  check_length(grad_out, 0, recv_ptr.size(0) - 1, fn, "grad_out", "rows (receivers, as recv_ptr)");
  check_length(grad_out, 1, h.size(1), fn, "grad_out", "features (as h)");
  check_length(recv, 0, k.size(0), fn, "recv", "pairs (as k)");
  check_length(send_perm, 0, k.size(0), fn, "send_perm", "pairs (as k)");
  check_length(send_ptr, 0, h.size(0) + 1, fn, "send_ptr", "entries (senders + 1, as h)");
  check_range(send_perm, k.size(0), fn, "send_perm");
  check_ptr(send_ptr, k.size(0), fn, "send_ptr");
  {  // the pairs of row i of recv_ptr have receiver i; those of row j of send_ptr (through send_perm) sender j
    const int64_t *R = recv.data_ptr<int64_t>(), *RP = recv_ptr.data_ptr<int64_t>();
    const int64_t *S = send.data_ptr<int64_t>(), *SP = send_perm.data_ptr<int64_t>();
    const int64_t* SPP = send_ptr.data_ptr<int64_t>();
    for (int64_t i = 0; i + 1 < recv_ptr.numel(); ++i)
      for (int64_t p = RP[i]; p < RP[i + 1]; ++p)
        TORCH_CHECK(R[p] == i, fn, ": recv[", p, "] = ", R[p], " but recv_ptr puts pair ", p, " in row ", i);
    for (int64_t j = 0; j + 1 < send_ptr.numel(); ++j)
      for (int64_t q = SPP[j]; q < SPP[j + 1]; ++q)
        TORCH_CHECK(S[SP[q]] == j, fn, ": send[send_perm[", q, "]] = ", S[SP[q]], " but send_ptr puts it in row ", j);
  }
  const int64_t F = h.size(1);
  const int64_t n_send = send_ptr.size(0) - 1;
  const int64_t n_recv = recv_ptr.size(0) - 1;
  const int64_t G = table.size(0);
  const int64_t P = k.size(0);
  auto grad_h = torch::zeros_like(h);
  auto grad_frac = torch::zeros({need_frac ? P : 0}, h.options());
  const int n_threads = at::get_num_threads();
  auto grad_tables = torch::zeros({n_threads, G, F}, h.options());
  const float* GO = grad_out.data_ptr<float>();
  const float* H = h.data_ptr<float>();
  const float* T = table.data_ptr<float>();
  const int64_t* K = k.data_ptr<int64_t>();
  const float* FR = frac.data_ptr<float>();
  const int64_t* S = send.data_ptr<int64_t>();
  const int64_t* R = recv.data_ptr<int64_t>();
  const int64_t* RP = recv_ptr.data_ptr<int64_t>();
  const int64_t* SP = send_perm.data_ptr<int64_t>();
  const int64_t* SPP = send_ptr.data_ptr<int64_t>();
  float* GH = grad_h.data_ptr<float>();
  float* GT = grad_tables.data_ptr<float>();
  float* GF = need_frac ? grad_frac.data_ptr<float>() : nullptr;
  // grad_h[j] = sum_{p: send[p] = j} grad_out[recv[p]] * W_p
  at::parallel_for(0, n_send, 16, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      float* gh = GH + j * F;
      for (int64_t q = SPP[j]; q < SPP[j + 1]; ++q) {
        const int64_t p = SP[q];
        const float* g = GO + R[p] * F;
        const float* lo = T + K[p] * F;
        const float* hi = lo + F;
        const float f = FR[p];
        for (int64_t c = 0; c < F; ++c) gh[c] += g[c] * (lo[c] + f * (hi[c] - lo[c]));
      }
    }
  });
  // grad_table[k] += (1 - f) g*x, grad_table[k+1] += f g*x; grad_frac[p] = sum g*x*(hi - lo)
  at::parallel_for(0, n_recv, 16, [&](int64_t begin, int64_t end) {
    float* gt = GT + at::get_thread_num() * G * F;
    for (int64_t i = begin; i < end; ++i) {
      const float* g = GO + i * F;
      for (int64_t p = RP[i]; p < RP[i + 1]; ++p) {
        const float* x = H + S[p] * F;
        const float f = FR[p];
        float* tlo = gt + K[p] * F;
        float* thi = tlo + F;
        if (GF) {
          const float* lo = T + K[p] * F;
          const float* hi = lo + F;
          float acc = 0.f;
          for (int64_t c = 0; c < F; ++c) {
            const float gx = g[c] * x[c];
            tlo[c] += (1.f - f) * gx;
            thi[c] += f * gx;
            acc += gx * (hi[c] - lo[c]);
          }
          GF[p] = acc;
        } else {
          for (int64_t c = 0; c < F; ++c) {
            const float gx = g[c] * x[c];
            tlo[c] += (1.f - f) * gx;
            thi[c] += f * gx;
          }
        }
      }
    }
  });
  return {grad_h, grad_tables.sum(0), grad_frac};
}

// 2. Atom-centred symmetry functions (forward only; the torch version in acsf.py is the differentiable one and
// the reference). Same formulas and feature layout as acsf.py: radial blocks per neighbour element, then angular
// blocks per unordered element pair with index (zeta, lambda, r_s), r_s fastest. Pairs sorted by centre atom.
Tensor acsf_forward(Tensor R, Tensor species, Tensor idx_j, Tensor recv_ptr, double rc_rad, Tensor rad_centers,
                    double rad_eta, double rc_ang, Tensor ang_centers, double ang_eta, Tensor zetas, Tensor lambdas,
                    Tensor pair_index, int64_t n_elements) {
  const char* fn = "acsf_forward";
  check_tensor(R, fn, "R", at::kFloat, 2);
  check_length(R, 1, 3, fn, "R", "coordinates");
  check_tensor(species, fn, "species", at::kLong, 1);
  check_tensor(idx_j, fn, "idx_j", at::kLong, 1);
  check_tensor(recv_ptr, fn, "recv_ptr", at::kLong, 1);
  check_tensor(pair_index, fn, "pair_index", at::kLong, 2);
  check_tensor(rad_centers, fn, "rad_centers", at::kFloat, 1);
  check_tensor(ang_centers, fn, "ang_centers", at::kFloat, 1);
  check_tensor(zetas, fn, "zetas", at::kFloat, 1);
  check_tensor(lambdas, fn, "lambdas", at::kFloat, 1);
  TORCH_CHECK(n_elements >= 1, fn, ": n_elements must be at least 1, got ", n_elements);
  TORCH_CHECK(rc_rad > 0 && rc_ang > 0, fn, ": cutoffs must be positive, got ", rc_rad, " and ", rc_ang, " Å");
  check_length(species, 0, R.size(0), fn, "species", "atoms (as R)");
  check_length(recv_ptr, 0, R.size(0) + 1, fn, "recv_ptr", "entries (atoms + 1, as R)");
  check_length(pair_index, 0, n_elements, fn, "pair_index", "rows (n_elements)");
  check_length(pair_index, 1, n_elements, fn, "pair_index", "columns (n_elements)");
  check_range(species, n_elements, fn, "species");
  check_range(idx_j, R.size(0), fn, "idx_j");
  check_range(pair_index, n_elements * (n_elements + 1) / 2, fn, "pair_index");
  check_ptr(recv_ptr, idx_j.size(0), fn, "recv_ptr");
  const int64_t A = R.size(0);
  const int64_t n_rad = rad_centers.size(0), n_rs = ang_centers.size(0);
  const int64_t n_zeta = zetas.size(0), n_lam = lambdas.size(0);
  const int64_t n_per_pair = n_zeta * n_lam * n_rs;
  const int64_t n_pairs_el = n_elements * (n_elements + 1) / 2;
  const int64_t n_radial_total = n_elements * n_rad;
  const int64_t F = n_radial_total + n_pairs_el * n_per_pair;
  auto out = torch::zeros({A, F}, R.options());
  const float* X = R.data_ptr<float>();
  const int64_t* S = species.data_ptr<int64_t>();
  const int64_t* J = idx_j.data_ptr<int64_t>();
  const int64_t* RP = recv_ptr.data_ptr<int64_t>();
  const float* RC = rad_centers.data_ptr<float>();
  const float* AC = ang_centers.data_ptr<float>();
  const float* ZE = zetas.data_ptr<float>();
  const float* LA = lambdas.data_ptr<float>();
  const int64_t* PI = pair_index.data_ptr<int64_t>();
  float* O = out.data_ptr<float>();
  const float frc = static_cast<float>(rc_rad), fra = static_cast<float>(rc_ang);
  const float feta = static_cast<float>(rad_eta), faeta = static_cast<float>(ang_eta);
  // integer zetas (the usual 1, 2, 4, 8) are raised by repeated squaring instead of std::pow
  std::vector<float> prefactor(n_zeta);
  std::vector<int64_t> int_zeta(n_zeta);
  for (int64_t z = 0; z < n_zeta; ++z) {
    prefactor[z] = std::pow(2.0f, 1.0f - ZE[z]);
    int_zeta[z] = (ZE[z] == std::floor(ZE[z]) && ZE[z] >= 0 && ZE[z] < 64) ? static_cast<int64_t>(ZE[z]) : -1;
  }
  at::parallel_for(0, A, 8, [&](int64_t begin, int64_t end) {
    std::vector<float> nv, nr, nfc, angle(n_zeta * n_lam), radial(n_rs);
    std::vector<int64_t> ns;
    for (int64_t i = begin; i < end; ++i) {
      float* o = O + i * F;
      nv.clear(); nr.clear(); nfc.clear(); ns.clear();
      for (int64_t p = RP[i]; p < RP[i + 1]; ++p) {
        const int64_t j = J[p];
        const float dx = X[3 * j] - X[3 * i], dy = X[3 * j + 1] - X[3 * i + 1], dz = X[3 * j + 2] - X[3 * i + 2];
        const float r = std::sqrt(dx * dx + dy * dy + dz * dz);
        if (r < frc) {
          const float fc = cosine_cutoff(r, frc);
          float* block = o + S[j] * n_rad;
          for (int64_t c = 0; c < n_rad; ++c) block[c] += std::exp(-feta * (r - RC[c]) * (r - RC[c])) * fc;
        }
        if (r < fra) {
          nv.push_back(dx); nv.push_back(dy); nv.push_back(dz);
          nr.push_back(r); nfc.push_back(cosine_cutoff(r, fra)); ns.push_back(S[j]);
        }
      }
      const int64_t n = static_cast<int64_t>(nr.size());
      for (int64_t a = 0; a < n; ++a) {
        for (int64_t b = a + 1; b < n; ++b) {
          const float cos = (nv[3 * a] * nv[3 * b] + nv[3 * a + 1] * nv[3 * b + 1] + nv[3 * a + 2] * nv[3 * b + 2]) /
                            (nr[a] * nr[b]);
          const float mean_r = 0.5f * (nr[a] + nr[b]);
          const float fc = nfc[a] * nfc[b];
          for (int64_t c = 0; c < n_rs; ++c) radial[c] = std::exp(-faeta * (mean_r - AC[c]) * (mean_r - AC[c])) * fc;
          for (int64_t z = 0; z < n_zeta; ++z)
            for (int64_t l = 0; l < n_lam; ++l) {
              const float base = std::max(0.0f, 1.0f + LA[l] * cos);
              float power = 1.0f;
              if (int_zeta[z] >= 0) {
                float b = base;
                for (int64_t e = int_zeta[z]; e; e >>= 1, b *= b)
                  if (e & 1) power *= b;
              } else {
                power = std::pow(base, ZE[z]);
              }
              angle[z * n_lam + l] = prefactor[z] * power;
            }
          float* block = o + n_radial_total + PI[ns[a] * n_elements + ns[b]] * n_per_pair;
          for (int64_t t = 0; t < n_zeta * n_lam; ++t)
            for (int64_t c = 0; c < n_rs; ++c) block[t * n_rs + c] += angle[t] * radial[c];
        }
      }
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("cfconv_forward", &cfconv_forward, "tabulated cfconv forward");
  m.def("cfconv_backward", &cfconv_backward, "tabulated cfconv backward");
  m.def("acsf_forward", &acsf_forward, "symmetry functions, forward only");
}
