/**
 * What attache asks a bucket to expire by itself (`attache storage setup`). Rule ids start with
 * `attache-`, so that setup replaces its own rules and keeps any other tool's.
 */
export interface LifecycleRule {
  readonly id: string;
  /** Key prefix the rule applies to; '' for the whole bucket. */
  readonly prefix: string;
  /** `expire`: delete objects this many days after they were written; `abort-multipart`: abort multi-part uploads left open this long. */
  readonly action: 'expire' | 'abort-multipart';
  readonly days: number;
}

export const ATTACHE_RULE_PREFIX = 'attache-';
/** The rule expiring direct and resumable uploads' staged objects. */
export const STAGED_RULE_ID = 'attache-staged-direct-uploads';
/** The bucket-wide rule aborting incomplete multi-part uploads. */
export const ABORT_MULTIPART_RULE_ID = 'attache-abort-incomplete-multipart';

/** How long `lifecycleRulesFor`'s rules let what is in flight live, in whole days (at least 1; 1 when not given). */
export interface LifecycleDays {
  /** Direct and resumable uploads' staged objects (`staged/`). */
  readonly staged?: number;
  /** Incomplete multi-part uploads: on S3, a resumable upload's parts are one, open until the upload ends. */
  readonly incompleteMultipart?: number;
}

/**
 * The rules for a bucket: provisional uploads (`incoming/`, files whose folder never came) go
 * after a day; incomplete multi-part uploads after `days.incompleteMultipart` (on S3, the longest
 * life of a resumable upload, whose parts are one); direct and resumable uploads' staged objects
 * (`staged/`) after `days.staged` (their longest life, in whole days); with `retentionDays`,
 * attachments and their previews (`chat/`) go after that many days. One list, so that installing
 * it (which replaces every `attache-` rule) never drops a rule another command put there.
 */
export function lifecycleRulesFor(retentionDays: number | undefined, days: LifecycleDays = {}): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    { id: 'attache-expire-incoming', prefix: 'incoming/', action: 'expire', days: 1 },
    { id: ABORT_MULTIPART_RULE_ID, prefix: '', action: 'abort-multipart', days: days.incompleteMultipart ?? 1 },
    { id: STAGED_RULE_ID, prefix: 'staged/', action: 'expire', days: days.staged ?? 1 },
  ];
  if (retentionDays !== undefined) rules.push({ id: 'attache-retention', prefix: 'chat/', action: 'expire', days: retentionDays });
  return rules;
}

/** `attache-expire-incoming: expire incoming/* after 1 day`: one line per rule, for people. */
export function describeRule(rule: LifecycleRule): string {
  const what = rule.action === 'expire' ? 'expire' : 'abort incomplete multi-part uploads under';
  return `${rule.id}: ${what} ${rule.prefix === '' ? 'the whole bucket' : `${rule.prefix}*`} after ${rule.days} day${rule.days === 1 ? '' : 's'}`;
}
