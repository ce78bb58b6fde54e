#!/usr/bin/env bash
# Build and deploy srvpulse to AWS with SAM (which also brings the database schema up to
# date: template.yaml, SchemaMigration).
#
#   infra/deploy.sh --guided   first deploy: SAM asks for every parameter of template.yaml
#                              and saves the answers in samconfig.toml (commit it, or keep
#                              it per environment: SAM_CONFIG_ENV)
#   infra/deploy.sh            later deploys, non-interactive, with samconfig.toml
#
# Environment (all optional):
#   STACK_NAME              CloudFormation stack (default: srvpulse)
#   AWS_REGION              region (default: the AWS CLI/SDK default)
#   SAM_CONFIG_ENV          samconfig.toml environment (default: default)
#   SAM_PARAMETER_OVERRIDES "Key=Value Key2=Value2" for template parameters (CI: no
#                           samconfig.toml needed; see infra/README.md for the list)
#   SAM                     the sam executable (default: sam)
#
# Needs: AWS credentials, SAM CLI, the AWS CLI, make, python3.11 on PATH (sam build
# uses it to install the layer's wheels for arm64; no Docker), and Node.js with npm (the
# dashboard is built here and uploaded to the stack's bucket after the deploy). Before anything is built,
# it checks each of them, the region, the SES identity and the account's Lambda
# concurrency, and names every one that is missing with what to do (exit 2).
# tests/unit/test_deploy_script.py runs it with stub commands on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM="${SAM:-sam}"
STACK_NAME="${STACK_NAME:-srvpulse}"
SAM_CONFIG_ENV="${SAM_CONFIG_ENV:-default}"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
GUIDED=false
[ "${1:-}" = "--guided" ] && GUIDED=true

# ---------------------------------------------------------------- prerequisites
missing=()
need() { missing+=("$1"); }
have() { command -v "$1" >/dev/null 2>&1; }

# A template parameter's value as this deploy will pass it: SAM_PARAMETER_OVERRIDES,
# else samconfig.toml's parameter_overrides, else empty (the template's default).
parameter() {
  local name="$1" value=""
  value="$(printf '%s\n' "${SAM_PARAMETER_OVERRIDES:-}" | tr ' ' '\n' | sed -n "s/^$name=//p" | head -1)"
  if [ -z "$value" ] && [ -f samconfig.toml ]; then
    value="$(grep -E '^parameter_overrides' samconfig.toml | tr ' ' '\n' | tr -d '"\\' |
      sed -n "s/^$name=//p" | head -1)"
  fi
  printf '%s' "$value"
}

have "$SAM" || need "SAM CLI ('$SAM') not found: pip install aws-sam-cli, or set SAM=/path/to/sam"
have make || need "make not found: sam build runs infra/api-build/Makefile (apt-get install make)"
have python3.11 || need "python3.11 not found on PATH: sam build installs the layer's packages with it"
have npm || need "npm not found: the dashboard (frontend/) is built with Node.js 20.19+ and npm (Debian: apt-get install nodejs npm)"
if ! have aws; then
  need "AWS CLI ('aws') not found: it checks credentials, region and SES (pip install awscli)"
else
  AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
  if [ -z "$AWS_REGION" ]; then
    need "no AWS region: export AWS_REGION=eu-west-1 (or aws configure set region ...)"
  elif ! account="$(aws sts get-caller-identity --query Account --output text 2>&1)"; then
    need "no usable AWS credentials (aws sts get-caller-identity: ${account//$'\n'/ }): aws configure, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
  else
    if ! $GUIDED && [ ! -f samconfig.toml ] && [ -z "${SAM_PARAMETER_OVERRIDES:-}" ]; then
      need "no samconfig.toml and no SAM_PARAMETER_OVERRIDES: run 'infra/deploy.sh --guided' the first time"
    fi
    identity="$(parameter SesIdentity)"
    if [ -n "$identity" ]; then
      verified="$(aws sesv2 get-email-identity --email-identity "$identity" --region "$AWS_REGION" \
        --query VerifiedForSendingStatus --output text 2>/dev/null || echo missing)"
      if [ "$verified" != "True" ]; then
        need "SES identity '$identity' is not verified for sending in $AWS_REGION: aws sesv2 create-email-identity --email-identity $identity, then publish its DKIM records (infra/README.md, 'Email')"
      fi
    fi
    quota="$(aws lambda get-account-settings --region "$AWS_REGION" \
      --query AccountLimit.ConcurrentExecutions --output text 2>/dev/null || echo 0)"
    ping_reserved="$(parameter PingReservedConcurrency)"
    analyzer_reserved="$(parameter AnalyzerReservedConcurrency)"
    reserved=$(( ${ping_reserved:-50} + ${analyzer_reserved:-1} ))
    # Lambda keeps at least 10 of the account's concurrency unreserved.
    if [ "$quota" -gt 0 ] && [ $(( quota - reserved )) -lt 10 ]; then
      need "the account's Lambda concurrency quota is $quota, too small to reserve $reserved: deploy with PingReservedConcurrency=0 AnalyzerReservedConcurrency=0, or ask for more (Service Quotas, 'Concurrent executions')"
    fi
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "infra/deploy.sh: cannot deploy yet; nothing was changed:" >&2
  for problem in "${missing[@]}"; do echo "  - $problem" >&2; done
  echo "Step by step: infra/README.md, 'From an empty AWS account'." >&2
  exit 2
fi
export AWS_REGION
region_args=(--region "$AWS_REGION")

echo "== validate template.yaml"
"$SAM" validate --lint --template-file template.yaml "${region_args[@]}"

echo "== build the dashboard (frontend/dist: npm ci when the lock file changed, vite build)"
make --no-print-directory frontend-build

echo "== build (layer for arm64, one folder per function, the API via infra/api-build)"
"$SAM" build --template-file template.yaml "${region_args[@]}"

echo "== deploy stack $STACK_NAME"
deploy_args=(
  --stack-name "$STACK_NAME"
  --config-env "$SAM_CONFIG_ENV"
  --capabilities CAPABILITY_IAM
  --no-fail-on-empty-changeset
  "${region_args[@]}"
)
if $GUIDED; then
  "$SAM" deploy --guided "${deploy_args[@]}"
else
  # The artifact bucket: samconfig.toml names it after a guided deploy; without that file
  # (CI), SAM creates and reuses a managed one.
  [ -f samconfig.toml ] || deploy_args+=(--resolve-s3)
  if [ -n "${SAM_PARAMETER_OVERRIDES:-}" ]; then
    # Word splitting on purpose: "Key=Value Key2=Value2" becomes separate arguments.
    # shellcheck disable=SC2206
    deploy_args+=(--parameter-overrides $SAM_PARAMETER_OVERRIDES)
  fi
  "$SAM" deploy --no-confirm-changeset "${deploy_args[@]}"
fi

# The dashboard: hashed assets first (cached a year, immutable; never deleted here, so a
# page opened before this deploy can still load its chunks), then index.html and the
# other files (revalidated on every visit; files gone from the build are deleted), then
# the CDN's cached copies of them.
echo "== upload the dashboard"
output() {
  aws cloudformation describe-stacks --stack-name "$STACK_NAME" "${region_args[@]}" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output DashboardBucketName)"
distribution="$(output DashboardDistributionId)"
aws s3 sync frontend/dist/assets "s3://$bucket/assets" "${region_args[@]}" \
  --cache-control "public, max-age=31536000, immutable"
aws s3 sync frontend/dist "s3://$bucket" "${region_args[@]}" --exclude "assets/*" --delete \
  --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/*" \
  --query Invalidation.Id --output text

# The database migrations ran during the deploy (custom resource SchemaMigration, before
# the functions that use the database were updated); a failed one rolled the deploy back.
echo "== outputs"
"$SAM" list stack-outputs --stack-name "$STACK_NAME" "${region_args[@]}"
