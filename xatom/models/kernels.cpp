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

Tensor cfconv_forward(Tensor h, Tensor table, Tensor k, Tensor frac, Tensor send, Tensor recv_ptr) {
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
