// The results model's own functions, against the contract in check.h: the exit code of a report
// (2 on any input error, else 1 on any denial, else 0), where a finding's line comes from, and
// how an input error is worded for each kind of place.
#include <doctest/doctest.h>

#include "server/report/check.h"

namespace {

using rootgate::server::CheckError;
using rootgate::server::CheckReport;
using rootgate::server::CheckResult;

CheckResult Result(bool allowed) {
  CheckResult r;
  r.decision.allowed = allowed;
  return r;
}

TEST_CASE("ExitCode: 2 on any input error, else 1 on any denial, else 0") {
  CheckReport empty;
  CHECK(rootgate::server::ExitCode(empty) == 0);

  CheckReport allowed;
  allowed.results = {Result(true), Result(true)};
  CHECK(rootgate::server::ExitCode(allowed) == 0);

  CheckReport denied;
  denied.results = {Result(true), Result(false)};
  CHECK(rootgate::server::ExitCode(denied) == 1);

  CheckReport error_and_denied = denied;
  error_and_denied.errors.push_back(CheckError{"a.yaml", 0, 1, "bad", false, false});
  CHECK(rootgate::server::ExitCode(error_and_denied) == 2);
}

TEST_CASE("FindingLine: the field's line when known, else the object's") {
  CheckResult r;
  r.line = 4;
  r.field_lines["spec.containers[0].securityContext.runAsUser"] = 9;
  rootgate::policy::Finding known;
  known.field = "spec.containers[0].securityContext.runAsUser";
  rootgate::policy::Finding unknown;
  unknown.field = "spec.securityContext.runAsNonRoot";
  CHECK(rootgate::server::FindingLine(r, known) == 9);
  CHECK(rootgate::server::FindingLine(r, unknown) == 4);
}

TEST_CASE("CheckError::ToString names the file, and the document and line where they apply") {
  CHECK(CheckError{"app.yaml", 1, 7, "boom", false, false}.ToString() ==
        "app.yaml: document 1 (line 7): boom");
  CHECK(CheckError{"app.yaml", 3, 9, "cannot read", true, false}.ToString() ==
        "app.yaml: cannot read");
  CHECK(CheckError{"Dockerfile", 0, 7, "unknown instruction", false, true}.ToString() ==
        "Dockerfile: line 7: unknown instruction");
}

}  // namespace
