// Fused continuous-filter convolution with a tabulated filter (xatom SchNet, CPU).
//
//   out[i] = sum_{p: recv[p] = i} h[send[p]] * lerp(table[k[p]], table[k[p] + 1], frac[p])
//
// One pass gathers the sender row, interpolates the filter from a table that stays in cache, multiplies
// and accumulates into the receiver row, so no (n_pairs x n_filters) tensor is ever written to memory.
// Pairs must be sorted by receiver (recv_ptr is the CSR row pointer); the backward pass walks them by
// sender through a permutation (send_perm, send_ptr).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <vector>

using torch::Tensor;

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

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &cfconv_forward, "tabulated cfconv forward");
  m.def("backward", &cfconv_backward, "tabulated cfconv backward");
}
