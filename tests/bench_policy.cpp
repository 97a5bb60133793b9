// Policy engine benchmark: prints figures, asserts nothing (see README "Performance").
//   build/rootgate_bench [iterations-scale]
// 1. Evaluate a parsed pod with 1, 10 and 100 containers (view built once; and view + evaluate).
// 2. Decode + evaluate + write the reply of the recorded Pod CREATE AdmissionReview (003), as the
//    webhook does, next to a reference in the same run: nlohmann parse alone of the same bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "policy/evaluator.h"
#include "policy/image_facts.h"
#include "policy/workload.h"
#include "policy/admission.h"
#include "server/admission/admission_codec.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Median over 7 batches of the per-iteration time in nanoseconds.
template <typename F>
double MedianNs(size_t iterations, F&& f) {
  std::vector<double> batches;
  for (int b = 0; b < 7; ++b) {
    auto start = Clock::now();
    for (size_t i = 0; i < iterations; ++i) f();
    auto ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    batches.push_back(ns / static_cast<double>(iterations));
  }
  std::sort(batches.begin(), batches.end());
  return batches[batches.size() / 2];
}

// A typical pod: runAsNonRoot at pod level, containers with a uid, one without (image user
// unknown, guarded by runAsNonRoot), one privileged-false explicit.
json MakePod(size_t containers) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "bench"}, {"namespace", "demo"}}},
              {"spec", {{"securityContext", {{"runAsNonRoot", true}}}, {"containers", json::array()}}}};
  for (size_t i = 0; i < containers; ++i) {
    json c = {{"name", "c" + std::to_string(i)}, {"image", "ghcr.io/example/app:" + std::to_string(i)}};
    if (i % 2 == 0) c["securityContext"] = {{"runAsUser", 1000 + i}, {"privileged", false}};
    pod["spec"]["containers"].push_back(c);
  }
  return pod;
}

volatile size_t g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
  const auto& policy = rootgate::policy::BuiltinDefaultPolicy();
  const rootgate::policy::NoImageFacts facts;
  std::printf("%-44s %12s %12s\n", "case", "ns/op", "ns/container");
  for (size_t n : {1, 10, 100}) {
    json pod = MakePod(n);
    auto view = rootgate::policy::BuildWorkloadView("", "Pod", pod);
    if (!view) return 1;
    rootgate::policy::EvalContext ctx{"demo", "", nullptr};
    const size_t iters = static_cast<size_t>(200000 * scale / n) + 1;
    double eval = MedianNs(iters, [&] {
      auto d = rootgate::policy::Evaluate(view.value(), facts, policy, ctx);
      g_sink = g_sink + d.violations.size() + d.warnings.size();
    });
    double both = MedianNs(iters, [&] {
      auto v = rootgate::policy::BuildWorkloadView("", "Pod", pod);
      auto d = rootgate::policy::Evaluate(v.value(), facts, policy, ctx);
      g_sink = g_sink + d.violations.size();
    });
    std::printf("evaluate, %3zu containers%20s %12.0f %12.0f\n", n, "", eval, eval / n);
    std::printf("view + evaluate, %3zu containers%13s %12.0f %12.0f\n", n, "", both, both / n);
  }

  std::ifstream in(std::string(ROOTGATE_FIXTURES_DIR) + "/003-pod-create-no-securitycontext.json");
  const std::string body = json::parse(in)["body"].dump();
  const size_t iters = static_cast<size_t>(20000 * scale) + 1;
  double parse_only = MedianNs(iters, [&] { g_sink = g_sink + json::parse(body).size(); });
  // What the webhook does per request: decode, validate, write the reply text.
  double full = MedianNs(iters, [&] {
    auto review = rootgate::server::DecodeReviewText(body);
    auto decision = rootgate::policy::Validate(review.value().request, facts, policy);
    g_sink = g_sink + rootgate::server::ReplyText(rootgate::server::ReplyTo(
                          review.value().api_version, review.value().request.uid, decision)).size();
  });
  std::printf("\nrecorded Pod AdmissionReview (%zu bytes):\n", body.size());
  std::printf("  reference: json::parse only            %10.0f ns\n", parse_only);
  std::printf("  parse + evaluate + encode reply        %10.0f ns  (%.2fx the bare parse)\n", full,
              full / parse_only);
  return 0;
}
