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

/**
 * The rules for a bucket: provisional uploads (`incoming/`, files whose folder never came) and
 * incomplete multi-part uploads go after a day; with `retentionDays`, attachments and their
 * previews (`chat/`) go after that many days.
 */
export function lifecycleRulesFor(retentionDays: number | undefined): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    { id: 'attache-expire-incoming', prefix: 'incoming/', action: 'expire', days: 1 },
    { id: 'attache-abort-incomplete-multipart', prefix: '', action: 'abort-multipart', days: 1 },
  ];
  if (retentionDays !== undefined) rules.push({ id: 'attache-retention', prefix: 'chat/', action: 'expire', days: retentionDays });
  return rules;
}

/** `attache-expire-incoming: expire incoming/* after 1 day`: one line per rule, for people. */
export function describeRule(rule: LifecycleRule): string {
  const what = rule.action === 'expire' ? 'expire' : 'abort incomplete multi-part uploads under';
  return `${rule.id}: ${what} ${rule.prefix === '' ? 'the whole bucket' : `${rule.prefix}*`} after ${rule.days} day${rule.days === 1 ? '' : 's'}`;
}
