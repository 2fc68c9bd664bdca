#!/usr/bin/env bash
# One round now, from the CronJob's own template (kubectl create job --from=cronjob/rounds):
# the same image, service account, ConfigMaps, Secret and limits as the scheduled rounds. Follows
# the round's logs and exits with the round's exit code (0 done; 1 invalid input or config;
# 2 could not run; 3 done, but an action or a notification failed).
#
#   scripts/run-once.sh                          # a round as the CronJob would make it now
#   scripts/run-once.sh --dry-run                # dry-run even if the runner config applies
#   scripts/run-once.sh --only oom-raise-memory,crashloop-restart
#
# Options:
#   --dry-run          set ROUNDS_DRY_RUN=true in the Job (wins over mode: apply)
#   --only NAMES       set ROUNDS_ONLY=NAMES: only these playbooks (comma-separated)
#   --namespace NS     rounds' namespace (default: rounds)
#   --cronjob NAME     the CronJob to copy (default: rounds)
#   --name NAME        the Job's name (default: rounds-manual-<unix time>)
#   --timeout SECONDS  give up waiting after this long (default: 600); exit 2
#   --context NAME     kubeconfig context (KUBECONFIG is used as kubectl uses it)
# The Job stays for its ttlSecondsAfterFinished, so `kubectl logs job/NAME` works afterwards.
set -euo pipefail

KUBECTL=${KUBECTL:-kubectl}
NAMESPACE=rounds
CRONJOB=rounds
NAME=rounds-manual-$(date +%s)
TIMEOUT=600
ENVS=()
CONTEXT=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-1}"; }
need() { [ "$#" -ge 2 ] && [ -n "$2" ] || { echo "run-once.sh: $1 needs a value" >&2; exit 1; }; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) ENVS+=("ROUNDS_DRY_RUN=true"); shift ;;
    --only) need "$@"; ENVS+=("ROUNDS_ONLY=$2"); shift 2 ;;
    --namespace|-n) need "$@"; NAMESPACE=$2; shift 2 ;;
    --cronjob) need "$@"; CRONJOB=$2; shift 2 ;;
    --name) need "$@"; NAME=$2; shift 2 ;;
    --timeout) need "$@"; TIMEOUT=$2; shift 2 ;;
    --context) need "$@"; CONTEXT=(--context "$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run-once.sh: unknown option $1" >&2; usage 1 ;;
  esac
done

k() { "$KUBECTL" "${CONTEXT[@]}" -n "$NAMESPACE" "$@"; }
say() { echo "run-once: $*" >&2; }
deadline=$(( $(date +%s) + TIMEOUT ))
in_time() { [ "$(date +%s)" -lt "$deadline" ] || { say "gave up after ${TIMEOUT}s; see: kubectl -n $NAMESPACE describe job/$NAME"; exit 2; }; }

# The Job as kubectl creates it from the CronJob, with the options' environment added locally.
job=$(k create job "$NAME" --from="cronjob/$CRONJOB" --dry-run=client -o json) || exit 2
if [ "${#ENVS[@]}" -gt 0 ]; then
  job=$(printf '%s' "$job" | "$KUBECTL" set env --local -f - -o json "${ENVS[@]}") || exit 2
fi
printf '%s' "$job" | k create -f - >/dev/null || exit 2
say "created job/$NAME in namespace $NAMESPACE${ENVS[*]:+ with ${ENVS[*]}}"

seen=" "
code=""
while :; do
  # The Job's verdict, once it has one.
  verdict=$(k get job "$NAME" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{.reason}{"\n"}{end}' | grep -E '^(Complete|Failed) ' | head -n 1 || true)
  # Its next pod that has started (a retry is a new pod).
  pod=""
  while read -r name phase; do
    [ -n "$name" ] || continue
    case "$seen" in *" $name "*) continue ;; esac
    case "$phase" in Running|Succeeded|Failed) pod=$name; break ;; esac
  done < <(k get pods -l "job-name=$NAME" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.phase}{"\n"}{end}')
  if [ -n "$pod" ]; then
    seen="$seen$pod "
    say "following pod/$pod"
    k logs -f "pod/$pod" -c rounds || say "could not read the logs of pod/$pod"
    # The container's exit code, once it has terminated.
    while :; do
      code=$(k get pod "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="rounds")].state.terminated.exitCode}')
      [ -n "$code" ] && break
      in_time; sleep 1
    done
    say "pod/$pod exited with $code"
    continue
  fi
  if [ -n "$verdict" ]; then
    say "job/$NAME: $verdict"
    case "$verdict" in
      Complete*) exit "${code:-0}" ;;
      # Stopped before its round ended (deadline, deleted pod): the round could not run.
      *) [ -n "$code" ] && [ "$code" -le 3 ] && exit "$code"; exit 2 ;;
    esac
  fi
  in_time; sleep 1
done
