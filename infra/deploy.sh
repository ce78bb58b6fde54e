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
# Needs: AWS credentials, SAM CLI, make, and python3.11 on PATH (sam build uses it to
# install the layer's wheels for arm64; no Docker). Not run by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM="${SAM:-sam}"
STACK_NAME="${STACK_NAME:-srvpulse}"
SAM_CONFIG_ENV="${SAM_CONFIG_ENV:-default}"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
region_args=()
[ -n "${AWS_REGION:-}" ] && region_args=(--region "$AWS_REGION")

echo "== validate template.yaml"
"$SAM" validate --lint --template-file template.yaml "${region_args[@]}"

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
if [ "${1:-}" = "--guided" ]; then
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

# The database migrations ran during the deploy (custom resource SchemaMigration, before
# the functions that use the database were updated); a failed one rolled the deploy back.
echo "== outputs"
"$SAM" list stack-outputs --stack-name "$STACK_NAME" "${region_args[@]}"
