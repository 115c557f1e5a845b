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

/**
 * The rules for a bucket: provisional uploads (`incoming/`, files whose folder never came) and
 * incomplete multi-part uploads go after a day; direct and resumable uploads' staged objects
 * (`staged/`) after `stagedDays` (their longest life, in whole days); with `retentionDays`,
 * attachments and their previews (`chat/`) go after that many days. One list, so that installing
 * it (which replaces every `attache-` rule) never drops a rule another command put there.
 */
export function lifecycleRulesFor(retentionDays: number | undefined, stagedDays = 1): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    { id: 'attache-expire-incoming', prefix: 'incoming/', action: 'expire', days: 1 },
    { id: 'attache-abort-incomplete-multipart', prefix: '', action: 'abort-multipart', days: 1 },
    { id: STAGED_RULE_ID, prefix: 'staged/', action: 'expire', days: stagedDays },
  ];
  if (retentionDays !== undefined) rules.push({ id: 'attache-retention', prefix: 'chat/', action: 'expire', days: retentionDays });
  return rules;
}

/** `attache-expire-incoming: expire incoming/* after 1 day`: one line per rule, for people. */
export function describeRule(rule: LifecycleRule): string {
  const what = rule.action === 'expire' ? 'expire' : 'abort incomplete multi-part uploads under';
  return `${rule.id}: ${what} ${rule.prefix === '' ? 'the whole bucket' : `${rule.prefix}*`} after ${rule.days} day${rule.days === 1 ? '' : 's'}`;
}
