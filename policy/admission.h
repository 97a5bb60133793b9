// The admission request rules of SEMANTICS.md ("Requests"): which operations, subresources and
// updates are evaluated, and how. The socket-free Validate the HTTPS handler and `rootgate
// review` both call. Pure; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "policy/decision.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "policy/workload.h"

namespace rootgate::policy {

struct GroupVersionKind {
  std::string group, version, kind;
};

// A decoded AdmissionReview request (admission.k8s.io v1 or v1beta1).
struct Request {
  std::string uid;
  GroupVersionKind kind;
  GroupVersionKind resource;  // kind holds the resource name ("pods")
  std::string sub_resource;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string name;
  std::string namespace_name;
  std::string username;
  nlohmann::json object;      // null when absent
  nlohmann::json old_object;  // null when absent
  bool dry_run = false;
};

// What Validate needs the server to look up first: the view of the object to evaluate, when
// there is one. Returns nullopt when the request is allowed without evaluation.
struct Plan {
  bool evaluate = false;
  std::string skip_reason;  // when !evaluate
  WorkloadView view;        // when evaluate; points into the request's object
  std::vector<std::string> only_ephemeral;  // ephemeralcontainers UPDATE: the new ones
  bool restrict_to_ephemeral = false;
  std::string error;  // the object is malformed: what and where
};

// Whether deciding the request compares whole pod templates (an UPDATE of a workload: any change
// to its template is evaluated). Otherwise only the fields of each object that BuildWorkloadView
// and the pod UPDATE comparison read matter: metadata name and namespace; of a pod spec
// securityContext, hostUsers, runtimeClassName, os and each container's name, image,
// restartPolicy and securityContext.
bool ComparesWholeTemplates(const Request& request);

// Decides whether and what to evaluate. Never throws.
Plan PlanRequest(const Request& request, const Policy& policy);

// Evaluates a plan with facts. Never throws.
Decision DecidePlan(const Plan& plan, const Request& request, const ImageFacts& facts,
                    const Policy& policy);

// PlanRequest + DecidePlan.
Decision Validate(const Request& request, const ImageFacts& facts, const Policy& policy);

}  // namespace rootgate::policy
