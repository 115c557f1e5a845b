import type { LifecycleOutcome } from '../../application/ports/bucket-lifecycle.ts';
import type { SetUpStorage } from '../../application/set-up-storage.ts';
import type { SweptRules } from '../../application/swept-lifecycle.ts';
import { describeRule } from '../../domain/lifecycle-rules.ts';
import { EXIT, type CliIO } from './cli-io.ts';

export const STORAGE_SETUP_HELP = `Usage: attache storage setup [--dry-run] [--json]

Installs on the bucket (STORAGE_DRIVER=s3 or gcs) the lifecycle rules attache relies on, and says what it
did: provisional uploads (incoming/) expire after a day, incomplete multi-part uploads are aborted
after a day (on s3, after RESUMABLE_UPLOAD_TTL plus one HTTP_REQUEST_TIMEOUT_MS in whole days, 2 by
default: a resumable upload's parts are one multipart upload), and with RETENTION_DAYS attachments
and their previews (chat/) expire after that many days. Rules of other tools on the bucket are kept.
Idempotent: run it again after changing RETENTION_DAYS or RESUMABLE_UPLOAD_TTL, or at every deployment. With STORAGE_DRIVER=local the service sweeps its folder by
the same rules every hour, and this command sweeps it once now. With STORAGE_DRIVER=azure the service
sweeps the container the same way, this command sweeps it once now and prints the lifecycle
management policy to install with az (attache's credentials cannot install it).

Options:
  --dry-run      print the rules and the bucket's whole lifecycle configuration; change nothing
  --json         print {"changed","rules","kept","configuration"} instead
  -h, --help     show this help
`;

/** Runs the setup and prints what it did (or would do); resolves with the exit code. */
export async function runStorageSetup(
  opened: { setUpStorage: SetUpStorage | undefined; driver: string },
  options: { dryRun: boolean; json: boolean },
  io: CliIO,
): Promise<number> {
  if (opened.setUpStorage === undefined) {
    io.stderr.write(`attache: storage setup: the ${opened.driver} driver has no bucket lifecycle rules to install (s3, gcs, azure and local have)\n`);
    return EXIT.FAILED;
  }
  const outcome = await opened.setUpStorage.execute({ dryRun: options.dryRun });
  io.stdout.write(options.json ? `${JSON.stringify(jsonOf(outcome))}\n` : textOf(outcome, options.dryRun));
  return EXIT.OK;
}

function jsonOf(outcome: LifecycleOutcome): object {
  return { changed: outcome.changed, rules: outcome.rules, kept: outcome.kept, configuration: outcome.backendConfiguration };
}

function textOf(outcome: LifecycleOutcome, dryRun: boolean): string {
  const configuration = outcome.backendConfiguration as Partial<SweptRules>;
  if (configuration.policy !== undefined) return azureText(outcome, configuration as SweptRules, dryRun);
  const swept = outcome.backendConfiguration as { removed?: string[]; wouldRemove?: string[] };
  if (swept.removed !== undefined || swept.wouldRemove !== undefined) return sweepText(outcome, swept.removed ?? swept.wouldRemove ?? [], dryRun);
  const verb = !outcome.changed ? 'already installed' : dryRun ? 'would install' : 'installed';
  const lines = outcome.rules.map((rule) => `${verb}: ${describeRule(rule)}`);
  for (const id of outcome.kept) lines.push(`kept: ${id} (not attache's)`);
  if (dryRun) lines.push(`lifecycle configuration ${outcome.changed ? 'to write' : 'on the bucket'}:`, JSON.stringify(outcome.backendConfiguration, null, 2));
  return `${lines.join('\n')}\n`;
}

/**
 * Azure: the rules are swept now (and by the service every hour); the management policy that would make
 * Azure expire them by itself is printed for the operator, who alone can install it.
 */
function azureText(outcome: LifecycleOutcome, { swept, policy }: SweptRules, dryRun: boolean): string {
  const lines = outcome.rules.map((rule) => `swept by the service every hour: ${describeRule(rule)}${dryRun ? '' : ` (removed now: ${swept[rule.id] ?? 0})`}`);
  lines.push(
    'not installed: an Azure lifecycle management policy is a setting of the storage account (Azure Resource Manager), which',
    "the container's credentials cannot change. To have Azure expire these by itself too, merge these rules into the account's",
    'policy (az storage account management-policy show; create replaces the whole policy) and install it with',
    '  az storage account management-policy create --account-name ACCOUNT --resource-group GROUP --policy @policy.json',
    'policy.json:',
    JSON.stringify(policy, null, 2),
  );
  return `${lines.join('\n')}\n`;
}

/** The local driver: the rules are swept now (and by the service every hour), not installed. */
function sweepText(outcome: LifecycleOutcome, paths: readonly string[], dryRun: boolean): string {
  const lines = outcome.rules.map((rule) => `swept by the service every hour: ${describeRule(rule)}`);
  for (const path of paths) lines.push(`${dryRun ? 'would remove' : 'removed'}: ${path}`);
  return `${lines.join('\n')}\n`;
}
